"""Every error leaves as JSON with SageMaker's code: {"__type", "code", "message"} and the
``x-amzn-ErrorType`` header, with the status the error class names."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from greenfleet.errors import GreenfleetError, ValidationError


def error_response(error: GreenfleetError) -> JSONResponse:
    return JSONResponse(error.to_dict(), status_code=error.status_code,
                        headers={"x-amzn-ErrorType": error.code})


def _describe(exc: RequestValidationError) -> str:
    parts = []
    for problem in exc.errors():
        location = ".".join(str(p) for p in problem.get("loc", ()) if p != "body")
        message = problem.get("msg", "invalid")
        if problem.get("type") == "json_invalid":
            message = f"malformed JSON: {problem.get('ctx', {}).get('error', message)}"
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts) or "invalid request"


def install(app: FastAPI) -> None:
    @app.exception_handler(GreenfleetError)
    async def _greenfleet(_request: Request, exc: GreenfleetError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(ValidationError(_describe(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = "UnknownOperationException" if exc.status_code in (404, 405) else "ValidationException"
        return JSONResponse({"__type": code, "code": code, "message": str(exc.detail)},
                            status_code=exc.status_code, headers={"x-amzn-ErrorType": code})
