# Shows what the platform gave the process: its environment, working directory, and the
# invocation's context (deadline, ARN, client context).
import os


def handler(event, context):
    cc = context.client_context
    return {
        "env": dict(os.environ),
        "cwd": os.getcwd(),
        "remaining_ms": context.get_remaining_time_in_millis(),
        "invoked_function_arn": context.invoked_function_arn,
        "client_context_custom": cc.custom if cc else None,
    }
