# Returns a string of event["bytes"] characters (its JSON is two bytes longer); above
# 6 MiB + 100 bytes Lambda refuses it with Function.ResponseSizeTooLarge.


def handler(event, context):
    return "x" * int(event["bytes"])
