"""The portal: server-rendered pages under /portal (a Chalice Blueprint).

`app.register_blueprint(portal, url_prefix="/portal")` in app.py mounts it. Importing
this package registers the routes and loads only the standard library and Chalice;
Jinja2, the services and boto3 are imported when a portal page is first served.
"""

from chalicelib.portal import routes as _routes  # noqa: F401  (registers the views)
from chalicelib.portal.web import portal

__all__ = ["portal"]
