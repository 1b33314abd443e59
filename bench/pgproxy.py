"""A TCP proxy that adds a fixed delay each way, to put workers a network hop from the server.

    python bench/pgproxy.py --target 127.0.0.1:5432 --port 6543 --delay-ms 1

Every chunk read from one side is written to the other ``delay`` later, in order. Chunks are
queued, not waited on one by one, so the delay adds latency (a round trip costs 2 x delay
more) without capping the bandwidth. It prints ``listening on HOST:PORT`` once it accepts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

CHUNK = 1 << 16


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy ``reader`` to ``writer``, each chunk ``delay`` seconds after it came."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        while data := await reader.read(CHUNK):
            queue.put_nowait((loop.time() + delay, data))
        queue.put_nowait((loop.time() + delay, b""))  # end of stream, delayed as the rest.

    async def write() -> None:
        while True:
            due, data = await queue.get()
            if (pause := due - loop.time()) > 0:
                await asyncio.sleep(pause)
            if not data:
                with contextlib.suppress(OSError):
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    try:
        await asyncio.gather(read(), write())
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def serve(target: tuple[str, int], port: int, delay: float, host: str = "127.0.0.1") -> None:
    """Accept on ``host:port`` for ever, each connection proxied to ``target``."""

    async def accept(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*target)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(_pipe(client_r, server_w, delay), _pipe(server_r, client_w, delay))

    server = await asyncio.start_server(accept, host, port)
    print(f"listening on {host}:{server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default="127.0.0.1:5432", help="HOST:PORT of the server")
    parser.add_argument("--port", type=int, default=6543, help="port to listen on (0: any)")
    parser.add_argument("--delay-ms", type=float, default=1.0, help="added each way")
    args = parser.parse_args(argv)
    host, _, port = args.target.rpartition(":")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve((host, int(port)), args.port, args.delay_ms / 1000.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
