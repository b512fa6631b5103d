"""Name lookups with a deadline.

Docker removes a stopped container's name from its embedded DNS server, which then
asks the host's resolvers instead; from an internal network those may never answer,
and the C library waits seconds before giving up. A dead dependency must cost
milliseconds, so a lookup gets the same deadline as the connect that follows it.
"""

import socket
from concurrent.futures import ThreadPoolExecutor

# getaddrinfo cannot be interrupted: it runs in a small pool and the caller stops
# waiting at the deadline. When every thread is stuck on a dead name, new lookups
# queue behind them and time out too, which is the answer wanted.
_lookups = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dns-lookup")


def resolve(host: str, port: int, timeout: float) -> list[tuple]:
    """socket.getaddrinfo for a TCP connection, or TimeoutError after `timeout` seconds."""
    future = _lookups.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        return future.result(timeout)
    except TimeoutError:  # the future's wait, not the lookup: getaddrinfo raises gaierror
        raise TimeoutError(f"looking up {host!r} took over {timeout}s") from None
