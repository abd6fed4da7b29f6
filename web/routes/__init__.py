"""Every router of the application; each page family lives in its own module."""
from web.routes import admin, api, auth, cases, dashboard, diary, fna, oggi, profile, sad

ROUTERS = [auth.router, oggi.router, cases.router, diary.router, fna.router, sad.router, dashboard.router, admin.router,
           profile.router, api.router]
