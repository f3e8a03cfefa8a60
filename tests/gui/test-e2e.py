#!/usr/bin/python3
"""End to end, through the accessibility tree, as a person would use it.

A real Dovecot with mail whose headers are RFC 2047 encoded, an account
added with the command line (password into a real, unlocked
gnome-keyring), Popbiff started on a private X display with a tray host
present. Through AT-SPI (dogtail): the new messages show their decoded
subjects; two are selected and downloaded; they are on disk; the count
drops. The tray icon registers with the StatusNotifierWatcher
(AppIndicator path); with that watcher gone and an XEmbed tray (trayer)
running, the fallback icon embeds.

Run by tests/gui/run-e2e.sh (Xvfb, a session bus with a keyring, TAP).
Needs: POPBIFF (the binary), PB_E2E_DOVECOT_ENV (dovecot-env.sh),
PB_E2E_DISPLAY.
"""
import os
import subprocess
import sys
import tempfile
import time

TESTS = []


def test(func):
    TESTS.append(func)
    return func


def wait_for(what, predicate, timeout=60.0, interval=0.25):
    """Polls @predicate until it returns something true; generous timeout
    because the machine may be loaded, never a fixed sleep."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # the tree may be in flux
            last_error = e
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (%s)" % (what, last_error))


MESSAGES = [
    ("=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>",
     "=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=", "Grüße aus München"),
    ("=?ISO-8859-1?Q?Am=E9lie_Dupr=E9?= <amelie@example.fr>",
     "=?ISO-8859-1?Q?R=E9union_=E0_14h?=", "Réunion à 14h"),
    ("=?UTF-8?B?5bGx55Sw5aSq6YOO?= <yamada@example.jp>",
     "=?UTF-8?B?5Lya6K2w44Gu6K2w5LqL6Yyy44Gr44Gk44GE44Gm?=", "会議の議事録について"),
]


class Env:
    def __init__(self):
        self.procs = []
        self.tmp = tempfile.mkdtemp(prefix="pb-e2e-")
        self.popbiff = os.environ["POPBIFF"]
        self.dovecot_env = os.environ["PB_E2E_DOVECOT_ENV"]
        self.dovecot = {}
        self.registered = os.path.join(self.tmp, "sni-registered")
        self.folder = os.path.join(self.tmp, "Mail")

    def spawn(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def start_dovecot(self):
        out = subprocess.run([self.dovecot_env, "start"], check=True, capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            if line.startswith("export "):
                key, _, value = line[len("export "):].partition("=")
                value = value.strip("'\"")
                os.environ[key] = value
                self.dovecot[key] = value
        files = []
        for i, (frm, subject, _) in enumerate(MESSAGES):
            path = os.path.join(self.tmp, "msg%d.eml" % i)
            with open(path, "w") as f:
                f.write("From: %s\nTo: e2e@example.org\nSubject: %s\n"
                        "Date: Fri, 27 Nov 2026 0%d:00:00 +0000\nMessage-ID: <e2e-%d@example.org>\n"
                        "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n"
                        "Body %d\n" % (frm, subject, i + 1, i, i))
            files.append(path)
        subprocess.run([self.dovecot_env, "deliver"] + files, check=True)

    def add_account(self):
        d = self.dovecot
        subprocess.run([self.popbiff, "accounts", "add", "e2e",
                        "--host", d["PB_DOVECOT_HOST"], "--port", d["PB_DOVECOT_TLS_PORT"],
                        "--security", "tls", "--ca-file", d["PB_DOVECOT_CA_FILE"],
                        "--user", d["PB_DOVECOT_USER"], "--folder", self.folder,
                        "--password-stdin"],
                       input=d["PB_DOVECOT_PASSWORD"] + "\n", text=True, check=True)

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
        if self.dovecot:
            subprocess.run([self.dovecot_env, "stop"], check=False)


def setup_accessibility(env):
    os.environ.pop("NO_AT_BRIDGE", None)
    os.environ["GTK_MODULES"] = "gail:atk-bridge"
    # The session bus activates nothing by itself here: start the
    # accessibility bus, then tell toolkits (and dogtail) it is wanted.
    env.spawn(["/usr/libexec/at-spi-bus-launcher", "--launch-immediately"])
    subprocess.run(["gdbus", "wait", "--session", "--timeout", "60", "org.a11y.Bus"], check=True)
    from gi.repository import Gio
    Gio.Settings.new("org.gnome.desktop.interface").set_boolean("toolkit-accessibility", True)


def start_tray_hosts(env):
    watcher = env.spawn([sys.executable, os.path.join(os.path.dirname(__file__), "sni-watcher.py"),
                         env.registered], stdout=subprocess.PIPE, text=True)
    assert watcher.stdout.readline().strip() == "ready"
    env.watcher = watcher
    env.spawn(["trayer", "--edge", "bottom", "--widthtype", "request", "--height", "24",
               "--SetDockType", "true"])


def popbiff_app():
    from dogtail import tree
    return wait_for("Popbiff on the accessibility bus",
                    lambda: tree.root.application("popbiff"), timeout=90)


def message_cells(app):
    from dogtail.predicate import GenericPredicate
    table = app.child(roleName="table", name="New messages")
    return table, table.findChildren(GenericPredicate(roleName="table cell"))


def run(env):
    from dogtail import config
    config.config.searchCutoffCount = 10
    config.config.defaultDelay = 0.1
    results = []

    env.start_dovecot()
    env.add_account()
    setup_accessibility(env)
    start_tray_hosts(env)
    # GTK's own XEmbed code can log a critical while an icon changes trays;
    # ours must not: popbiff's log is checked at the end instead of making
    # every critical fatal.
    env.log = os.path.join(env.tmp, "popbiff.log")
    env.spawn([env.popbiff], stderr=open(env.log, "w"))
    app = popbiff_app()

    def subjects_shown():
        _, cells = message_cells(app)
        names = [c.name for c in cells]
        return all(s in names for _, _, s in MESSAGES) and names

    names = wait_for("the decoded subjects", subjects_shown, timeout=120)
    results.append(("decoded subjects listed", True))

    table, cells = message_cells(app)
    itable = table.queryTable()
    assert itable.nRows == 3, "expected 3 rows, got %d (%s)" % (itable.nRows, names)
    # Select the first two rows as a person would: click the first, then
    # Ctrl+click the second (real pointer events through XTEST).
    from dogtail import rawinput
    import pyatspi

    def click_cell(row, modifier=None):
        cell = table.getChildAtIndex(itable.getIndexAt(row, 1))
        x, y = cell.position
        w, h = cell.size
        if modifier:
            rawinput.holdKey(modifier)
        rawinput.click(x + w // 2, y + h // 2)
        if modifier:
            rawinput.releaseKey(modifier)

    click_cell(0)
    click_cell(1, "Control_L")
    wait_for("two rows selected", lambda: table.querySelection().nSelectedChildren > 0
             and itable.isRowSelected(0) and itable.isRowSelected(1), timeout=20)
    download = app.child(roleName="push button", name="Download")
    wait_for("Download enabled", lambda: download.sensitive, timeout=30)
    download.click()

    new_dir = os.path.join(env.folder, "new")
    files = wait_for("two messages on disk",
                     lambda: os.path.isdir(new_dir) and len(os.listdir(new_dir)) == 2
                     and os.listdir(new_dir), timeout=120)
    body = b"".join(open(os.path.join(new_dir, f), "rb").read() for f in files)
    assert b"Body" in body
    results.append(("two selected messages downloaded", True))

    def one_left():
        t, _ = message_cells(app)
        return t.queryTable().nRows == 1
    wait_for("the count to drop to one", one_left, timeout=60)
    results.append(("count dropped", True))

    wait_for("the AppIndicator to register", lambda: os.path.exists(env.registered)
             and open(env.registered).read().strip(), timeout=60)
    results.append(("tray icon registered (StatusNotifierItem)", True))

    # No watcher: the XEmbed fallback icon embeds into trayer.
    env.watcher.terminate()
    env.watcher.wait(timeout=10)

    def embedded():
        # The icon is a window inside trayer's panel window (XEmbed).
        lines = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True,
                               text=True).stdout.splitlines()
        for i, line in enumerate(lines):
            if '("panel" "trayer")' in line:
                depth = len(line) - len(line.lstrip())
                for inner in lines[i + 1:]:
                    if len(inner) - len(inner.lstrip()) <= depth:
                        break
                    if '("popbiff" "popbiff")' in inner:
                        return True
        return False
    wait_for("the XEmbed icon", embedded, timeout=60)
    results.append(("tray icon embedded (XEmbed fallback)", True))

    ours = [line for line in open(env.log) if "popbiff-" in line and
            ("CRITICAL" in line or "WARNING" in line)]
    assert not ours, "Popbiff logged: %s" % "".join(ours)
    results.append(("no warnings from Popbiff itself", True))
    return results


def main():
    os.environ["DISPLAY"] = os.environ.get("PB_E2E_DISPLAY", os.environ.get("DISPLAY", ""))
    env = Env()
    print("1..1", flush=True)
    try:
        for name, ok in run(env):
            print("# %s" % name, flush=True)
        print("ok 1 /app/e2e/download-two-from-dovecot", flush=True)
        status = 0
    except Exception as e:
        import traceback
        traceback.print_exc()
        print("not ok 1 /app/e2e/download-two-from-dovecot # %s" % e, flush=True)
        status = 1
    finally:
        env.stop()
    return status


if __name__ == "__main__":
    sys.exit(main())
