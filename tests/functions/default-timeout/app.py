# Sets a short default timeout for the sockets it opens, as handlers that call slow services
# do; it must not reach the runtime's own connection to the Runtime API.
import socket


def handler(event, context):
    socket.setdefaulttimeout(0.5)
    return event
