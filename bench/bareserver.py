"""A bare asyncio HTTP/1.1 server for the HTTP floors (run as ``python -m bench.bareserver PORT``).

It answers ``GET`` with a tiny JSON body and ``POST`` by decoding the JSON body with orjson and
answering the number of items, over keep-alive connections. It is the least an HTTP service can
do: the floor under our FastAPI service.
"""

from __future__ import annotations

import asyncio
import sys

import orjson

__all__ = ["main"]


def _answer(body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if head.startswith(b"POST"):
                data = orjson.loads(await reader.readexactly(length))
                items = data.get("items", []) if isinstance(data, dict) else data
                writer.write(_answer(orjson.dumps({"n": len(items)})))
            else:
                writer.write(_answer(b'{"status":"ok"}'))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _main(port: int) -> None:
    server = await asyncio.start_server(_serve, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    """Serve on the port given as the first argument until killed."""
    asyncio.run(_main(int(sys.argv[1])))


if __name__ == "__main__":
    main()
