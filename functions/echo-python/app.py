# The Python `echo` function: answers every event with the event itself, so that what is
# measured is the platform and the Python runtime, not the handler.


def handler(event, context):
    return event
