"""The desktop application: the kiosk at the door and the admin window. The only package that imports Qt."""
