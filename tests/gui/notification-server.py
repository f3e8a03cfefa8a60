#!/usr/bin/python3
"""A minimal notification server (org.freedesktop.Notifications) on the
session bus, standing in for a desktop's in the GUI tests: it accepts every
notification and appends it to the file named on the command line as one
JSON object per line ({"app", "summary", "body", "actions"}, actions as
[key, label] pairs), so a test can see what Popbiff told the person.

    notification-server.py NOTIFIED_FILE
"""
import json
import sys

from gi.repository import Gio, GLib

XML = """
<node>
  <interface name="org.freedesktop.Notifications">
    <method name="Notify">
      <arg name="app_name" type="s" direction="in"/>
      <arg name="replaces_id" type="u" direction="in"/>
      <arg name="app_icon" type="s" direction="in"/>
      <arg name="summary" type="s" direction="in"/>
      <arg name="body" type="s" direction="in"/>
      <arg name="actions" type="as" direction="in"/>
      <arg name="hints" type="a{sv}" direction="in"/>
      <arg name="expire_timeout" type="i" direction="in"/>
      <arg name="id" type="u" direction="out"/>
    </method>
    <method name="CloseNotification">
      <arg name="id" type="u" direction="in"/>
    </method>
    <method name="GetCapabilities">
      <arg name="capabilities" type="as" direction="out"/>
    </method>
    <method name="GetServerInformation">
      <arg name="name" type="s" direction="out"/>
      <arg name="vendor" type="s" direction="out"/>
      <arg name="version" type="s" direction="out"/>
      <arg name="spec_version" type="s" direction="out"/>
    </method>
    <signal name="NotificationClosed">
      <arg name="id" type="u"/>
      <arg name="reason" type="u"/>
    </signal>
    <signal name="ActionInvoked">
      <arg name="id" type="u"/>
      <arg name="action_key" type="s"/>
    </signal>
  </interface>
</node>
"""

PATH = "/org/freedesktop/Notifications"
NAME = "org.freedesktop.Notifications"


class Server:
    def __init__(self, notified_file):
        self.notified_file = notified_file
        self.last_id = 0

    def on_call(self, connection, sender, path, iface, method, params, invocation):
        if method == "Notify":
            app, replaces, _, summary, body, actions, _, _ = params.unpack()
            if replaces:
                notification_id = replaces
            else:
                self.last_id += 1
                notification_id = self.last_id
            record = {"id": notification_id, "app": app, "summary": summary, "body": body,
                      "actions": [actions[i:i + 2] for i in range(0, len(actions), 2)]}
            with open(self.notified_file, "a") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
            invocation.return_value(GLib.Variant("(u)", (notification_id,)))
        elif method == "CloseNotification":
            (notification_id,) = params.unpack()
            with open(self.notified_file, "a") as f:
                f.write(json.dumps({"closed": notification_id}) + "\n")
            invocation.return_value(None)
        elif method == "GetCapabilities":
            invocation.return_value(GLib.Variant("(as)", (["actions", "body"],)))
        elif method == "GetServerInformation":
            invocation.return_value(GLib.Variant("(ssss)", ("pb-test", "Popbiff tests", "1", "1.2")))
        else:
            invocation.return_value(None)

    def on_bus(self, connection, name):
        info = Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0]
        connection.register_object(PATH, info, self.on_call, None, None)

    def on_name(self, connection, name):
        # Ready: the test waits for this line before starting Popbiff.
        print("ready", flush=True)

    def on_lost(self, connection, name):
        print("could not own %s" % name, file=sys.stderr, flush=True)
        sys.exit(1)


def main():
    server = Server(sys.argv[1])
    Gio.bus_own_name(Gio.BusType.SESSION, NAME, Gio.BusNameOwnerFlags.NONE,
                     server.on_bus, server.on_name, server.on_lost)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
