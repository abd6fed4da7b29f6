"""Every router of the application; each page family lives in its own module.

PAGE_ROUTERS serve the pages (each guarded by `web.nav.guard_page`: a menu page is refused to whoever's menu
does not list it); the REST API authorises in the service layer alone."""
from web.routes import acts, admin, api, api_acts, api_docs, auth, cases, dashboard, diary, documents, fna, oggi  # noqa: F401
from web.routes import profile, sad

PAGE_ROUTERS = [auth.router, oggi.router, cases.router, diary.router, documents.router, acts.router, fna.router,
                sad.router, dashboard.router, admin.router, profile.router, api_docs.router]
ROUTERS = [*PAGE_ROUTERS, api.router, documents.api_router]
