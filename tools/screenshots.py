#!/usr/bin/python3
"""Drives Popbiff (demo mode) through AT-SPI and takes the screenshots the
README and the metainfo show. Run by tools/screenshots.sh, which provides
the display, the buses, the build and the output directory."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

POPBIFF = os.environ["POPBIFF"]
OUT = os.environ["PB_SCREENSHOTS"]
DOVECOT_ENV = os.environ["PB_DOVECOT_ENV"]
# The display run-under-xvfb.sh makes (PB_XVFB_SCREEN in screenshots.sh).
SCREEN = (1024, 768)


def wait_for(what, predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:
            error = e
        time.sleep(0.25)
    raise SystemExit("screenshots: timed out waiting for %s (%s)" % (what, error))


def grab_root():
    return subprocess.run(["import", "-window", "root", "-depth", "8", "rgb:-"],
                          check=True, capture_output=True).stdout


def popbiff_windows():
    """Screen rectangles (x, y, w, h) of Popbiff's visible windows and
    dialogs, from the accessibility tree."""
    from dogtail import tree
    app = tree.root.application("popbiff")
    rects = []
    for window in app.children:
        if window.showing:
            (x, y), (w, h) = window.position, window.size
            if w > 0 and h > 0:
                rects.append((x, y, w, h))
    return rects


def shoot(name):
    from dogtail import rawinput
    # No pointer hover or tooltip in the picture.
    rawinput.absoluteMotion(SCREEN[0] - 2, SCREEN[1] - 2)
    # Wait until two grabs a moment apart are the same: the last redraw
    # (an animation, a spinner stopping) has landed.
    previous = grab_root()
    deadline = time.monotonic() + 30
    while True:
        time.sleep(0.4)
        current = grab_root()
        if current == previous:
            break
        if time.monotonic() > deadline:
            raise SystemExit("screenshots: the screen never settled for %s" % name)
        previous = current
    # Crop to Popbiff's windows (the main window and any dialog on it).
    rects = wait_for("Popbiff's windows", popbiff_windows, timeout=30)
    left = max(0, min(x for x, _, _, _ in rects))
    top = max(0, min(y for _, y, _, _ in rects))
    right = min(SCREEN[0], max(x + w for x, _, w, _ in rects))
    bottom = min(SCREEN[1], max(y + h for _, y, _, h in rects))
    path = os.path.join(OUT, name + ".png")
    width, height = right - left, bottom - top
    # What lies outside Popbiff's windows (the bare root window, where a
    # dialog sticks out of the main window) becomes transparent.
    mask = ["(", "-size", "%dx%d" % (width, height), "xc:black", "-fill", "white"]
    for x, y, w, h in rects:
        mask += ["-draw", "rectangle %d,%d %d,%d" % (x - left, y - top,
                                                     x - left + w - 1, y - top + h - 1)]
    mask += [")"]
    subprocess.run(["convert", "-size", "%dx%d" % SCREEN, "-depth", "8", "rgb:-",
                    "-crop", "%dx%d+%d+%d" % (width, height, left, top), "+repage"]
                   + mask + ["-alpha", "off", "-compose", "CopyOpacity", "-composite",
                             "-strip", "-define", "png:compression-level=9", path],
                   input=current, check=True)
    print("wrote %s (%dx%d)" % (path, width, height), flush=True)


def app_named(procs):
    from dogtail import tree
    return wait_for("Popbiff", lambda: tree.root.application("popbiff"), timeout=90)


HOMES = []


def isolated_env():
    home = tempfile.mkdtemp(prefix="pb-shots-home-")
    HOMES.append(home)
    env = dict(os.environ)
    env.update(HOME=home, XDG_CONFIG_HOME=home + "/config", XDG_DATA_HOME=home + "/data",
               XDG_STATE_HOME=home + "/state", XDG_CACHE_HOME=home + "/cache",
               GSETTINGS_BACKEND="memory")
    return env


def main():
    os.environ.pop("NO_AT_BRIDGE", None)
    subprocess.Popen(["/usr/libexec/at-spi-bus-launcher", "--launch-immediately"])
    subprocess.run(["gdbus", "wait", "--session", "--timeout", "60", "org.a11y.Bus"], check=True)
    from dogtail import config
    config.config.checkForA11y = False
    config.config.logDebugToFile = False
    config.config.searchCutoffCount = 20
    config.config.defaultDelay = 0.2

    # 1. The first start: no account yet.
    first = subprocess.Popen([POPBIFF], env=isolated_env())
    app = app_named([first])
    wait_for("the welcome page", lambda: app.child(roleName="push button", name="Add an Account"))
    shoot("empty")
    first.terminate()
    first.wait()

    # 2. The demo with new mail.
    demo = subprocess.Popen([POPBIFF, "--demo"], env=isolated_env())
    from dogtail import tree
    app = wait_for("the demo", lambda: tree.root.application("popbiff"), timeout=90)
    table = wait_for("the messages", lambda: app.child(roleName="table", name="New messages"))
    wait_for("five messages", lambda: table.queryTable().nRows >= 5, timeout=60)
    # Two picked, ready to download.
    from dogtail import rawinput
    itable = table.queryTable()
    for row, key in ((0, None), (2, "Control_L")):
        cell = table.getChildAtIndex(itable.getIndexAt(row, 1))
        (x, y), (w, h) = cell.position, cell.size
        if key:
            rawinput.holdKey(key)
        rawinput.click(x + w // 2, y + h // 2)
        if key:
            rawinput.releaseKey(key)
    shoot("new-mail")

    # 3. The editor, filled in.
    app.child(roleName="push button", name="Add account").click()
    editor = wait_for("the editor", lambda: app.child(roleName="dialog", name="Add Account"))
    editor.child(roleName="text", name="Account name").text = "work"
    editor.child(roleName="text", name="Server").text = "pop.example.org"
    editor.child(roleName="text", name="User name").text = "jane.doe"
    editor.child(roleName="password text", name="Password").text = "correct horse"
    shoot("editor")

    # 4. An untrusted certificate, from a real TLS server (a private Dovecot
    #    with a test CA nobody trusts).
    out = subprocess.run([DOVECOT_ENV, "start"], check=True, capture_output=True, text=True).stdout
    dov = {}
    for line in out.splitlines():
        if line.startswith("export "):
            k, _, v = line[7:].partition("=")
            dov[k] = v.strip("'\"")
    os.environ["PB_DOVECOT_DIR"] = dov["PB_DOVECOT_DIR"]
    try:
        editor.child(roleName="text", name="Server").text = "127.0.0.1"
        port = editor.child(roleName="spin button", name="Port")
        port.queryValue().currentValue = float(dov["PB_DOVECOT_TLS_PORT"])
        editor.child(roleName="text", name="User name").text = dov["PB_DOVECOT_USER"]
        editor.child(roleName="password text", name="Password").text = dov["PB_DOVECOT_PASSWORD"]
        editor.child(roleName="push button", name="Test Connection").click()
        try:
            wait_for("the certificate dialog",
                     lambda: app.child(roleName="dialog", name="Server Certificate",
                                       retry=False), timeout=60)
        except SystemExit:
            print(editor.child(name="Connection test result").text, file=sys.stderr)
            raise
        shoot("certificate")
    finally:
        subprocess.run([DOVECOT_ENV, "stop", dov["PB_DOVECOT_DIR"]], check=False)
        demo.terminate()
        demo.wait()


if __name__ == "__main__":
    try:
        main()
    finally:
        for home in HOMES:
            shutil.rmtree(home, ignore_errors=True)
