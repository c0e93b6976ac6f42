from fastapi import FastAPI

from app.api.users import router as users_router

app = FastAPI(title="orders-api")
app.include_router(users_router)


@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}
