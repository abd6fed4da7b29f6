"""Every router of the application; each page family lives in its own module.

PAGE_ROUTERS serve the pages (each guarded by `web.nav.guard_page`: a menu page is refused to whoever's menu
does not list it); the REST API authorises in the service layer alone. `exports` comes before `cases`: its
/casi/esporta must not be read as a case number; `api_exports` and `api_acts` add their routes to `api.router`;
`documents` has its page routes and its own API router (`documents.api_router`)."""
from web.routes import api_acts, api_exports, api_regional  # noqa: F401  (register their routes on api.router)
from web.routes import (acts, admin, api, api_docs, api_handover, api_person, auth, case_history, cases, dashboard,
                        diary, documents, exports, fna, handover, imports, oggi, person, profile, regional, sad, siuss)

PAGE_ROUTERS = [auth.router, oggi.router, exports.router, cases.router, case_history.router, diary.router,
                documents.router, acts.router, handover.router, fna.router, sad.router, dashboard.router, siuss.router, admin.router,
                imports.router, profile.router, api_docs.router, person.router, regional.router]
ROUTERS = [*PAGE_ROUTERS, api.router, api_person.router, api_handover.router, documents.api_router]
