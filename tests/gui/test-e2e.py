#!/usr/bin/python3
"""End to end, through the accessibility tree, as a person would use it.

A real Dovecot holding mail whose headers are RFC 2047 encoded, an account
added with the command line (the password goes into a real, unlocked
gnome-keyring), Popbiff started on a private X display with two tray hosts
present. Through AT-SPI (dogtail), each step a TAP test:

  - the new messages are listed with their decoded senders and subjects;
  - one notification sums them up, with Download and Open Popbiff;
  - the tray icon registers with the StatusNotifierWatcher (AppIndicator)
    and says how many messages are new; no XEmbed icon meanwhile;
  - two messages picked by subject and downloaded are in the account's
    Maildir, byte for byte, and nothing else is;
  - the count drops, in the list, the account row and the tray icon;
  - with the watcher gone, the XEmbed fallback icon embeds into trayer;
  - thousands of messages more arrive (one more notification), their
    senders and subjects all listed within seconds; all of them picked,
    Download, Cancel at once; the window says so promptly (it used to
    freeze for minutes), with the number saved; the rest marked as read;
  - Quit in the main menu ends Popbiff cleanly, having logged no warning
    and announced nothing twice;
  - started again with an account whose password is wrong and one whose
    certificate is not trusted: only their problems are announced (the
    certificate's pointing to Review); started once more, nothing is
    (neither mail nor a problem already announced).

Run by tests/gui/run-e2e.sh (Xvfb, a session bus with a keyring). Needs:
POPBIFF (the binary), PB_E2E_DOVECOT_ENV (tests/tools/dovecot-env.sh),
PB_E2E_DISPLAY (the display, which with-keyring.sh hides). Every wait has a
deadline generous enough for a loaded 2-core machine; none is a bare sleep.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# (From, Subject) as they are on the wire, and as a person must see them.
# Several charsets, Q and B encodings, and a subject split over two encoded
# words (the space between adjacent encoded words is not part of the text,
# RFC 2047 section 6.2).
MESSAGES = [
    ("=?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>", "Jürgen Müller",
     "=?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=", "Grüße aus München"),
    ("=?ISO-8859-1?Q?Am=E9lie_Dupr=E9?= <amelie@example.fr>", "Amélie Dupré",
     "=?ISO-8859-1?Q?R=E9union_=E0_14h?=", "Réunion à 14h"),
    ("=?UTF-8?B?5bGx55Sw5aSq6YOO?= <yamada@example.jp>", "山田太郎",
     "=?UTF-8?B?5Lya6K2w44Gu6K2w5LqL6Yyy44Gr44Gk44GE44Gm?=", "会議の議事録について"),
    ("=?KOI8-R?B?6dfBzg==?= <ivan@example.ru>", "Иван",
     "=?UTF-8?B?0J/RgNC40LLQtdGC?= =?UTF-8?B?INC40Lcg0JzQvtGB0LrQstGL?=", "Привет из Москвы"),
]
# Picked for download by their subjects, not by their place in the list.
PICKED = ("Réunion à 14h", "Привет из Москвы")


class Failed(Exception):
    pass


def wait_for(what, predicate, timeout=60.0, interval=0.2):
    """Polls @predicate until it returns something true. The accessibility
    tree changes under our feet, so an exception is another "not yet"."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last = value
        except Exception as e:
            last = e
        if time.monotonic() > deadline:
            raise Failed("timed out after %.0f s waiting for %s (last: %r)" % (timeout, what, last))
        time.sleep(interval)


def check(condition, message):
    if not condition:
        raise Failed(message)


def message_file(index):
    sender, _, subject, _ = MESSAGES[index]
    return ("From: %s\nTo: e2e@example.org\nSubject: %s\n"
            "Date: Fri, 27 Nov 2026 0%d:00:00 +0000\nMessage-ID: <e2e-%d@example.org>\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n"
            "Body of message %d.\n" % (sender, subject, index + 1, index, index)).encode()


class Session:
    """Everything the test starts, so that all of it is stopped at the end."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="pb-e2e-")
        self.procs = []
        self.popbiff = os.environ["POPBIFF"]
        self.dovecot_env = os.environ["PB_E2E_DOVECOT_ENV"]
        self.dovecot = {}
        self.folder = os.path.join(self.tmp, "Mail")
        self.registered = os.path.join(self.tmp, "sni-registered")
        self.notified = os.path.join(self.tmp, "notified")
        self.log = os.path.join(self.tmp, "popbiff.log")
        self.app_proc = None
        self.watcher = None
        self.app = None

    def spawn(self, argv, **kw):
        proc = subprocess.Popen(argv, **kw)
        self.procs.append(proc)
        return proc

    def start_dovecot(self):
        out = subprocess.run([self.dovecot_env, "start"], check=True, capture_output=True,
                             text=True, timeout=120).stdout
        for line in out.splitlines():
            if line.startswith("export "):
                key, _, value = line[len("export "):].partition("=")
                self.dovecot[key] = value.strip("'\"")
        os.environ["PB_DOVECOT_DIR"] = self.dovecot["PB_DOVECOT_DIR"]
        files = []
        for i in range(len(MESSAGES)):
            path = os.path.join(self.tmp, "message-%d.eml" % i)
            with open(path, "wb") as f:
                f.write(message_file(i))
            files.append(path)
        subprocess.run([self.dovecot_env, "deliver"] + files, check=True, timeout=60)

    def add_account(self):
        d = self.dovecot
        subprocess.run([self.popbiff, "accounts", "add", "e2e",
                        "--host", d["PB_DOVECOT_HOST"], "--port", d["PB_DOVECOT_PORT"],
                        "--security", "starttls", "--ca-file", d["PB_DOVECOT_CA_FILE"],
                        "--user", d["PB_DOVECOT_USER"], "--folder", self.folder,
                        "--password-stdin"],
                       input=d["PB_DOVECOT_PASSWORD"] + "\n", text=True, check=True, timeout=60)

    def start_accessibility_bus(self):
        # with-keyring.sh's bus activates nothing: start the accessibility
        # bus ourselves. GTK 3 joins it when NO_AT_BRIDGE is not set.
        os.environ.pop("NO_AT_BRIDGE", None)
        os.environ["GNOME_ACCESSIBILITY"] = "1"
        self.spawn(["/usr/libexec/at-spi-bus-launcher", "--launch-immediately"])
        subprocess.run(["gdbus", "wait", "--session", "--timeout", "60", "org.a11y.Bus"],
                       check=True, timeout=90)

    def start_helper(self, script, argument):
        """A helper service of ours; it says "ready" once it owns its name."""
        proc = self.spawn([sys.executable, os.path.join(HERE, script), argument],
                          stdout=subprocess.PIPE, text=True)
        line = proc.stdout.readline().strip()
        check(line == "ready", "%s did not start (%r)" % (script, line))
        return proc

    def start_desktop_services(self):
        """What a desktop session offers: a notification server and two
        tray hosts, a StatusNotifierWatcher and an XEmbed tray (trayer)."""
        self.start_helper("notification-server.py", self.notified)
        self.watcher = self.start_helper("sni-watcher.py", self.registered)
        self.spawn(["trayer", "--edge", "bottom", "--widthtype", "request", "--height", "24",
                    "--SetDockType", "true"], stdout=subprocess.DEVNULL)
        wait_for("trayer's panel", lambda: trayer_children() is not None, timeout=60)

    def start_popbiff(self):
        # GTK's XEmbed code may log a critical while an icon changes trays;
        # Popbiff's own log domains must stay quiet (checked at Quit).
        # No dconf service on this bus: keep the window size in memory.
        # English labels, whatever the locale the tests run in.
        env = dict(os.environ, GSETTINGS_BACKEND="memory", LANGUAGE="en", LC_ALL="C.UTF-8")
        self.app_proc = self.spawn([self.popbiff], stdout=subprocess.DEVNULL,
                                   stderr=open(self.log, "w"), env=env)
        from dogtail import tree

        def find():
            check(self.app_proc.poll() is None,
                  "popbiff exited with status %s" % self.app_proc.returncode)
            return tree.root.application("popbiff")
        self.app = wait_for("Popbiff on the accessibility bus", find, timeout=90)

    def stop(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if self.dovecot:
            subprocess.run([self.dovecot_env, "stop", self.dovecot["PB_DOVECOT_DIR"]],
                           check=False, timeout=60)
        shutil.rmtree(self.tmp, ignore_errors=True)


def trayer_children():
    """The WM_CLASS names of the windows inside trayer's panel (XEmbed
    icons are reparented into it), or None while trayer has no panel."""
    out = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True,
                         timeout=30).stdout.splitlines()
    for i, line in enumerate(out):
        if '("panel" "trayer")' in line:
            depth = len(line) - len(line.lstrip())
            inside = []
            for inner in out[i + 1:]:
                if len(inner) - len(inner.lstrip()) <= depth:
                    break
                inside.append(inner.strip())
            return inside
    return None


def popbiff_icon_in_trayer():
    return any('("popbiff" "popbiff")' in line for line in trayer_children() or [])


def messages_table(s):
    return s.app.child(roleName="table", name="New messages", retry=False)


def rows(s):
    """The list as a person reads it: one (From, Subject) per row."""
    table = messages_table(s)
    itable = table.queryTable()
    columns = [itable.getColumnDescription(c) for c in range(itable.nColumns)]
    sender, subject = columns.index("From"), columns.index("Subject")
    return [(table.getChildAtIndex(itable.getIndexAt(r, sender)).name,
             table.getChildAtIndex(itable.getIndexAt(r, subject)).name)
            for r in range(itable.nRows)]


def session_bus():
    from gi.repository import Gio
    return Gio.bus_get_sync(Gio.BusType.SESSION, None)


def registered_item(s):
    """The item Popbiff registered with our watcher: (bus name, path)."""
    if not os.path.exists(s.registered):
        return None
    with open(s.registered) as f:
        items = [line.strip() for line in f if line.strip()]
    if not items:
        return None
    name, slash, path = items[-1].partition("/")
    return name, slash + path


def item_property(item, prop):
    from gi.repository import GLib
    name, path = item
    reply = session_bus().call_sync(name, path, "org.freedesktop.DBus.Properties", "Get",
                                    GLib.Variant("(ss)", ("org.kde.StatusNotifierItem", prop)),
                                    GLib.VariantType("(v)"), 0, 10000, None)
    return reply.unpack()[0]


def bus_name_pid(name):
    from gi.repository import GLib
    reply = session_bus().call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                    "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                                    GLib.Variant("(s)", (name,)), GLib.VariantType("(u)"),
                                    0, 10000, None)
    return reply.unpack()[0]


def click_center(node, modifier=None):
    from dogtail import rawinput
    (x, y), (w, h) = node.position, node.size
    if modifier:
        rawinput.holdKey(modifier)
    rawinput.click(x + w // 2, y + h // 2)
    if modifier:
        rawinput.releaseKey(modifier)


# The steps, in order; each needs the ones before it.

def test_setup(s):
    s.start_dovecot()
    s.add_account()
    s.start_accessibility_bus()
    s.start_desktop_services()
    s.start_popbiff()


def test_decoded_subjects(s):
    expected = sorted((m[1], m[3]) for m in MESSAGES)
    shown = wait_for("%d new messages listed" % len(MESSAGES),
                     lambda: len(rows(s)) == len(MESSAGES) and rows(s), timeout=90)
    check(sorted(shown) == expected, "listed %r, expected %r" % (shown, expected))


def notified(s):
    """What the notification server was asked, in order: notifications
    shown ({"id", "summary", ...}) and taken back ({"closed": id})."""
    if not os.path.exists(s.notified):
        return []
    with open(s.notified) as f:
        return [json.loads(line) for line in f]


def notifications(s):
    return [n for n in notified(s) if "summary" in n]


def closed(s):
    return {n["closed"] for n in notified(s) if "closed" in n}


def test_one_notification(s):
    notes = wait_for("a notification", lambda: notifications(s), timeout=60)
    check(len(notes) == 1, "expected one notification for four messages, got %r" % notes)
    note = notes[0]
    check("4" in note["summary"] and "e2e" in note["summary"],
          "the notification does not say 4 new messages in e2e: %r" % note)
    check(any(m[3] in note["body"] for m in MESSAGES),
          "the notification names no decoded subject: %r" % note)
    labels = [label for _, label in note["actions"]]
    check("Download" in labels and "Open Popbiff" in labels,
          "the notification lacks Download or Open Popbiff: %r" % note)


def test_appindicator_registers(s):
    item = wait_for("Popbiff's StatusNotifierItem", lambda: registered_item(s), timeout=60)
    check(bus_name_pid(item[0]) == s.app_proc.pid,
          "the item %r does not belong to Popbiff (pid %d)" % (item, s.app_proc.pid))
    check(item_property(item, "Id") == "popbiff", "the item's Id is not popbiff")
    wait_for("the icon to say 4 new messages",
             lambda: "4" in item_property(item, "Title"), timeout=60)
    check(not popbiff_icon_in_trayer(),
          "an XEmbed icon is in trayer although a StatusNotifierWatcher is running")


def test_download_two(s):
    table = messages_table(s)
    itable = table.queryTable()
    subjects = [subject for _, subject in rows(s)]
    picked_rows = [subjects.index(p) for p in PICKED]
    column = [itable.getColumnDescription(c) for c in range(itable.nColumns)].index("Subject")
    # A click on the first, a Ctrl+click on the second: real pointer events.
    for n, row in enumerate(picked_rows):
        click_center(table.getChildAtIndex(itable.getIndexAt(row, column)),
                     "Control_L" if n else None)
    wait_for("the two messages selected",
             lambda: all(itable.isRowSelected(r) for r in picked_rows)
             and sum(itable.isRowSelected(r) for r in range(itable.nRows)) == 2, timeout=30)

    download = s.app.child(roleName="push button", name="Download", retry=False)
    wait_for("Download to be enabled", lambda: download.sensitive, timeout=30)
    click_center(download)

    new_dir = os.path.join(s.folder, "new")
    files = wait_for("two files in %s" % new_dir,
                     lambda: len(os.listdir(new_dir)) >= 2 and os.listdir(new_dir), timeout=90)
    check(len(files) == 2, "expected 2 files in %s, found %r" % (new_dir, files))
    check(os.listdir(os.path.join(s.folder, "tmp")) == [], "a temporary file was left in tmp/")
    want = sorted(message_file(i) for i, m in enumerate(MESSAGES) if m[3] in PICKED)
    got = sorted(open(os.path.join(new_dir, f), "rb").read() for f in files)
    check(got == want, "the downloaded files differ from what was delivered:\n%r\n%r"
          % (got, want))


def test_count_drops(s):
    left = sorted((m[1], m[3]) for m in MESSAGES if m[3] not in PICKED)
    wait_for("the list to keep only the other two",
             lambda: sorted(rows(s)) == left, timeout=60)
    accounts = s.app.child(roleName="list box", name="Accounts", retry=False)

    def account_row_says_two():
        from dogtail.predicate import GenericPredicate
        for row in accounts.children:
            labels = [n.name for n in row.findChildren(GenericPredicate(roleName="label"))]
            if "e2e" in labels:
                return "2" in labels and labels
        return None
    wait_for("the account row to count 2 new", account_row_says_two, timeout=30)
    item = registered_item(s)
    wait_for("the icon to say 2 new messages",
             lambda: "2" in item_property(item, "Title"), timeout=30)


def test_cli_dismiss_followed(s):
    # `popbiff dismiss` in a terminal while the applet runs: the list and
    # the icon follow at once, not at the next check (10 minutes away).
    listed = json.loads(subprocess.run([s.popbiff, "list", "e2e", "--json"], check=True,
                                       capture_output=True, text=True, timeout=60).stdout)
    left = [m for m in MESSAGES if m[3] not in PICKED]
    gone, kept = left[0], left[1]
    uidl = [m["uidl"] for m in listed if m["subject"] == gone[3]]
    check(len(uidl) == 1, "popbiff list shows no one message %r: %r" % (gone[3], listed))
    subprocess.run([s.popbiff, "dismiss", "e2e", uidl[0]], check=True, timeout=60)
    wait_for("the list to keep only %r" % kept[3],
             lambda: rows(s) == [(kept[1], kept[3])], timeout=30)
    item = registered_item(s)
    wait_for("the icon to say 1 new message",
             lambda: "1" in item_property(item, "Title"), timeout=30)


def test_cli_accounts_followed(s):
    # `popbiff accounts add` and `remove` in a terminal: the window's
    # accounts follow without a restart. Disabled, so it is never checked.
    d = s.dovecot
    subprocess.run([s.popbiff, "accounts", "add", "second",
                    "--host", d["PB_DOVECOT_HOST"], "--port", d["PB_DOVECOT_PORT"],
                    "--security", "starttls", "--user", "nobody", "--disable"],
                   check=True, timeout=60)
    wait_for("the account “second” in the window",
             lambda: any("second" in name for name in account_row_names(s)), timeout=30)
    subprocess.run([s.popbiff, "accounts", "remove", "second"], check=True, timeout=60)
    wait_for("the account “second” gone from the window",
             lambda: not any("second" in name for name in account_row_names(s)), timeout=30)
    check(any("e2e" in name for name in account_row_names(s)), "the account e2e went too")


def test_xembed_fallback(s):
    # No watcher any more: Popbiff falls back to an XEmbed icon in trayer.
    s.watcher.terminate()
    s.watcher.wait(timeout=30)
    wait_for("Popbiff's icon inside trayer's panel", popbiff_icon_in_trayer, timeout=60)


BIG = 3000
# New before the big delivery: of the four, two were downloaded and one
# dismissed from the command line.
LEFT = 1


def result_text(bar):
    """The download result bar's words once it shows, else None."""
    if not bar.showing:
        return None
    for label in bar.findChildren(lambda n: n.roleName == "label"):
        if label.name.startswith(("Download cancelled", "Downloaded")):
            return label.name
    return None


def first_cell(table, itable):
    """The first row's sender cell, once the table has caught up with
    the list (the child is None while rows are being replaced)."""
    return wait_for("the first row of the list",
                    lambda: table.getChildAtIndex(itable.getIndexAt(0, 1)), timeout=30)


def test_cancel_big_download(s):
    # Found while the list is short: a search through thousands of rows
    # over AT-SPI takes longer than the download.
    table = messages_table(s)
    download = s.app.child(roleName="push button", name="Download", retry=False)
    cancel = s.app.child(roleName="push button", name="Cancel Download", retry=False)
    bar = s.app.child(roleName="info bar", retry=False)
    check_now = s.app.child(roleName="push button", name="Check now", retry=False)

    subprocess.run([s.dovecot_env, "fill", str(BIG)], check=True, timeout=120,
                   stdout=subprocess.DEVNULL)
    click_center(check_now)
    itable = table.queryTable()
    wait_for("%d new messages listed" % (BIG + LEFT), lambda: itable.nRows == BIG + LEFT,
             timeout=120)
    # A check fetches the headers of the newest 200 only; the rest (listed
    # last, with no date) fill in by checks right after, not 200 every
    # 10 minutes.
    wait_for("the oldest message's sender and subject",
             lambda: table.getChildAtIndex(itable.getIndexAt(itable.nRows - 1, 1)).name
             != "(no subject)", timeout=120)
    click_center(first_cell(table, itable))
    from dogtail import rawinput
    rawinput.keyCombo("<Control>a")
    wait_for("all messages selected", lambda: itable.nSelectedRows == BIG + LEFT, timeout=60)
    click_center(download)
    # On a fast machine the download may end before Cancel can be pressed;
    # the checks below hold either way.
    if wait_for("Cancel Download or the download's result",
                lambda: "cancel" if cancel.showing and cancel.sensitive else result_text(bar),
                timeout=60) == "cancel":
        cancel.click()
    # Each message left out is reported one by one: that must not cost a
    # search of the whole list each (it froze the window for minutes).
    text = wait_for("the download to end", lambda: result_text(bar), timeout=90)
    check("cancelled" in text or "Downloaded" in text, "unexpected result: %r" % text)
    # It says how many are on disk (the two of download-two besides).
    saved = len(os.listdir(os.path.join(s.folder, "new"))) - len(PICKED)
    said = int(re.search(r"\d+", text).group(0))
    check(said == saved, "the result says %r, but %d messages were saved" % (text, saved))

    # The rest marked as read at once: the list is empty again (and the
    # accessibility tree small for the steps after this one). On a fast
    # machine the download can end before Cancel is pressed, and then
    # nothing is left to mark.
    wait_for("the saved messages gone from the list",
             lambda: itable.nRows == BIG + LEFT - saved, timeout=60)
    if itable.nRows:
        click_center(first_cell(table, itable))
        rawinput.keyCombo("<Control>a")
        wait_for("the rest selected", lambda: itable.nSelectedRows == itable.nRows, timeout=60)
        rawinput.keyCombo("<Control>m")
        wait_for("no new message left", lambda: itable.nRows == 0, timeout=90)


def test_read_mail_notification_withdrawn(s):
    # Nothing new is left: the notification announcing the thousands (with
    # its Download button) is taken back, not left to offer what is read.
    big = [n for n in notifications(s) if "e2e" in n["summary"] and str(BIG) in n["summary"]]
    check(big, "no notification announced the %d messages: %r" % (BIG, notifications(s)))
    wait_for("the notification of %d new messages withdrawn" % BIG,
             lambda: big[-1]["id"] in closed(s), timeout=30)


def quit_popbiff(s):
    click_center(s.app.child(roleName="toggle button", name="Main menu", retry=False))
    quit_item = wait_for("Quit in the main menu",
                         lambda: s.app.child(name="Quit", retry=False, showingOnly=True),
                         timeout=30)
    click_center(quit_item)
    try:
        status = s.app_proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise Failed("Popbiff still runs 30 s after Quit")
    check(status == 0, "Popbiff exited with status %d after Quit" % status)
    with open(s.log) as f:
        ours = [line for line in f if re.search(r"popbiff-\w+-(CRITICAL|WARNING)", line)]
    check(not ours, "Popbiff logged:\n%s" % "".join(ours))
    # The notification server has read everything Popbiff sent before
    # it answers this (the bus keeps the order).
    from gi.repository import GLib
    session_bus().call_sync("org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                            "org.freedesktop.Notifications", "GetServerInformation", None,
                            GLib.VariantType("(ssss)"), 0, 10000, None)


def test_quit(s):
    quit_popbiff(s)
    # The four, then the thousands filled in later: once each.
    check(len(notifications(s)) == 2,
          "messages were announced again: %r" % notifications(s))


def account_row_names(s):
    accounts = s.app.child(roleName="list box", name="Accounts", retry=False)
    return [row.name for row in accounts.children]


def test_restart_announces_nothing_again(s):
    d = s.dovecot
    subprocess.run([s.popbiff, "accounts", "add", "broken",
                    "--host", d["PB_DOVECOT_HOST"], "--port", d["PB_DOVECOT_PORT"],
                    "--security", "starttls", "--ca-file", d["PB_DOVECOT_CA_FILE"],
                    "--user", d["PB_DOVECOT_USER"], "--password-stdin"],
                   input="not-the-password\n", text=True, check=True, timeout=60)
    # No CA file: the test CA is trusted nowhere else.
    subprocess.run([s.popbiff, "accounts", "add", "untrusted",
                    "--host", d["PB_DOVECOT_HOST"], "--port", d["PB_DOVECOT_TLS_PORT"],
                    "--user", d["PB_DOVECOT_USER"], "--password-stdin"],
                   input=d["PB_DOVECOT_PASSWORD"] + "\n", text=True, check=True, timeout=60)
    before = len(notifications(s))
    s.start_popbiff()
    wait_for("the problems of broken and untrusted announced",
             lambda: len(notifications(s)) >= before + 2, timeout=90)
    quit_popbiff(s)
    after_first = notifications(s)[before:]
    check(sorted(n["summary"] for n in after_first)
          == ["broken: Password rejected", "untrusted: Certificate not trusted"],
          "expected only the two problems announced, got %r" % after_first)
    # Said for a person at a desktop: what to do there, no fingerprint.
    untrusted = [n for n in after_first if n["summary"].startswith("untrusted")][0]
    check("Review" in untrusted["body"] and "pin" not in untrusted["body"],
          "the certificate problem does not point to Review: %r" % untrusted)

    s.start_popbiff()
    wait_for("broken and untrusted checked again",
             lambda: any(n.startswith("broken:") and "Password rejected" in n
                         for n in account_row_names(s)) and
             any(n.startswith("untrusted:") and "Certificate not trusted" in n
                 for n in account_row_names(s)), timeout=90)
    quit_popbiff(s)
    again = notifications(s)[before + len(after_first):]
    check(again == [], "announced again after a restart: %r" % again)


def test_password_fixed_from_cli(s):
    # A rejected password stops checking; the right one stored from a
    # terminal (which changes no file the applet watches) starts it again.
    s.start_popbiff()
    row = lambda: [n for n in account_row_names(s) if n.startswith("broken:")]
    wait_for("broken stopped by its rejected password",
             lambda: row() and "Password rejected" in row()[0], timeout=90)
    subprocess.run([s.popbiff, "accounts", "edit", "broken", "--password-stdin"],
                   input=s.dovecot["PB_DOVECOT_PASSWORD"] + "\n", text=True, check=True,
                   timeout=60)
    wait_for("broken checked with the new password",
             lambda: row() and "Password rejected" not in row()[0] and "new" in row()[0],
             timeout=90)
    quit_popbiff(s)


STEPS = [
    ("/app/e2e/setup", test_setup),
    ("/app/e2e/decoded-subjects", test_decoded_subjects),
    ("/app/e2e/one-notification", test_one_notification),
    ("/app/e2e/appindicator-registers", test_appindicator_registers),
    ("/app/e2e/download-two", test_download_two),
    ("/app/e2e/count-drops", test_count_drops),
    ("/app/e2e/cli-dismiss-followed", test_cli_dismiss_followed),
    ("/app/e2e/cli-accounts-followed", test_cli_accounts_followed),
    ("/app/e2e/xembed-fallback", test_xembed_fallback),
    ("/app/e2e/cancel-big-download", test_cancel_big_download),
    ("/app/e2e/read-mail-notification-withdrawn", test_read_mail_notification_withdrawn),
    ("/app/e2e/quit", test_quit),
    ("/app/e2e/restart-announces-nothing-again", test_restart_announces_nothing_again),
    ("/app/e2e/password-fixed-from-cli", test_password_fixed_from_cli),
]


def main():
    # TAP goes to the real stdout; everything else (dogtail's chatter, the
    # tools' messages) to stderr, so the TAP stream stays clean.
    tap = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.environ["DISPLAY"] = os.environ.get("PB_E2E_DISPLAY", os.environ.get("DISPLAY", ""))

    s = Session()
    # dogtail keeps a scratch and log directory under the temporary
    # directory: make that ours, and log nothing to files.
    tempfile.tempdir = s.tmp
    from dogtail import config
    config.config.logDebugToFile = False
    # It would look for a desktop setting and exit; the bus is ours.
    config.config.checkForA11y = False
    config.config.logDebugToStdOut = False
    config.config.searchCutoffCount = 10
    config.config.defaultDelay = 0.1

    tap.write("1..%d\n" % len(STEPS))
    status = 0
    try:
        for n, (name, step) in enumerate(STEPS, 1):
            started = time.monotonic()
            try:
                step(s)
            except Exception as e:
                import traceback
                traceback.print_exc()
                if s.app_proc is not None and os.path.exists(s.log):
                    sys.stderr.write("--- popbiff's log ---\n" + open(s.log).read())
                tap.write("not ok %d %s\n" % (n, name))
                tap.write("# %s\n" % str(e).replace("\n", "\n# "))
                tap.write("Bail out! the later steps need this one\n")
                status = 1
                break
            tap.write("ok %d %s # %.1f s\n" % (n, name, time.monotonic() - started))
    finally:
        s.stop()
    return status


if __name__ == "__main__":
    sys.exit(main())
