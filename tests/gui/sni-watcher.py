#!/usr/bin/python3
"""A minimal StatusNotifierWatcher (org.kde.StatusNotifierWatcher) on the
session bus, standing in for a desktop's tray host in the GUI tests: it
accepts registrations, claims a host is present, and appends every
registered item to the file named on the command line (one per line), so a
test can see that Popbiff's AppIndicator icon registered.

    sni-watcher.py REGISTERED_FILE
"""
import sys

from gi.repository import Gio, GLib

XML = """
<node>
  <interface name="org.kde.StatusNotifierWatcher">
    <method name="RegisterStatusNotifierItem">
      <arg name="service" type="s" direction="in"/>
    </method>
    <method name="RegisterStatusNotifierHost">
      <arg name="service" type="s" direction="in"/>
    </method>
    <property name="RegisteredStatusNotifierItems" type="as" access="read"/>
    <property name="IsStatusNotifierHostRegistered" type="b" access="read"/>
    <property name="ProtocolVersion" type="i" access="read"/>
    <signal name="StatusNotifierItemRegistered"><arg type="s"/></signal>
    <signal name="StatusNotifierItemUnregistered"><arg type="s"/></signal>
    <signal name="StatusNotifierHostRegistered"/>
  </interface>
</node>
"""

PATH = "/StatusNotifierWatcher"
IFACE = "org.kde.StatusNotifierWatcher"


class Watcher:
    def __init__(self, registered_file):
        self.items = []
        self.registered_file = registered_file
        self.connection = None

    def on_call(self, connection, sender, path, iface, method, params, invocation):
        if method == "RegisterStatusNotifierItem":
            service = params.unpack()[0]
            # An item may register by object path: then its bus name is the sender.
            item = service if not service.startswith("/") else sender + service
            self.items.append(item)
            with open(self.registered_file, "a") as f:
                f.write(item + "\n")
            connection.emit_signal(None, PATH, IFACE, "StatusNotifierItemRegistered",
                                   GLib.Variant("(s)", (item,)))
        invocation.return_value(None)

    def on_get(self, connection, sender, path, iface, prop):
        if prop == "RegisteredStatusNotifierItems":
            return GLib.Variant("as", self.items)
        if prop == "IsStatusNotifierHostRegistered":
            return GLib.Variant("b", True)
        if prop == "ProtocolVersion":
            return GLib.Variant("i", 0)
        return None

    def on_bus(self, connection, name):
        self.connection = connection
        info = Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0]
        connection.register_object(PATH, info, self.on_call, self.on_get, None)

    def on_name(self, connection, name):
        # Ready: the test waits for this line before starting Popbiff.
        print("ready", flush=True)

    def on_lost(self, connection, name):
        print("could not own %s" % name, file=sys.stderr, flush=True)
        sys.exit(1)


def main():
    watcher = Watcher(sys.argv[1])
    Gio.bus_own_name(Gio.BusType.SESSION, IFACE, Gio.BusNameOwnerFlags.NONE,
                     watcher.on_bus, watcher.on_name, watcher.on_lost)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
