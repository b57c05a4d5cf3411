"""The door's lock output: the driver interface, the ``Door`` controller and the relay drivers."""
