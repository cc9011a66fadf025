"""What each Chalice handler in app.py does: read the event, guard it, call a service, answer."""
