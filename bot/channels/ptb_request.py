"""python-telegram-bot's network layer on aiohttp instead of httpx.

The bot already runs aiohttp (the Zalo client, the web server). Under load, httpx with httpcore and anyio cost
about as much CPU per Bot API call as our whole database transaction per message; aiohttp's client does the same
work for a fraction. PTB supports this: a `BaseRequest` subclass with `do_request` returning (status, body),
the rest (error mapping, retry_after, JSON) stays PTB's.

Requests are sent as PTB's own HTTPXRequest sends them: form fields (each value JSON-encoded by PTB), or
multipart/form-data when files are attached. Exception messages never include the URL (it holds the token).
"""

from __future__ import annotations

import asyncio

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """A PTB request object on one aiohttp ClientSession (created in initialize, closed in shutdown)."""

    def __init__(self, *, connection_pool_size: int = 256, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0):
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector, headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        write = write_timeout
        if isinstance(write, DefaultValue):
            write = self._media_write_timeout if files else self._write_timeout
        # aiohttp has no separate write timeout: an upload may take its write time on top of the read wait.
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if pool is None or connect is None else pool + connect,  # the wait for a pooled connection too
            sock_connect=connect,
            sock_read=None if read is None else read + ((write or 0) if files else 0),
        )
        data: aiohttp.FormData | dict[str, str] | None = fields
        if files:
            form = aiohttp.FormData()
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mimetype) in files.items():
                form.add_field(name, content, filename=filename, content_type=mimetype)
            data = form
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as response:
                return response.status, await response.read()
        except asyncio.TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            # The class name only: aiohttp's messages can quote the URL, which holds the token.
            raise NetworkError(f"aiohttp.{type(err).__name__}") from err
