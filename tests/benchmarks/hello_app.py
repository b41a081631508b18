"""The baseline: a minimal FastAPI hello-world app, served exactly like the real one."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def hello() -> dict[str, str]:
    return {"message": "Hello World"}
