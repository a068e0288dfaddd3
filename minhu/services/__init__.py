"""Services: load, call the domain with the clock's ``now``, persist state and audit in one
transaction. They know nothing of HTTP."""
