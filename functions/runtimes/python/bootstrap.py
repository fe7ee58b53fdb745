"""coldlab's Python runtime client: a stdlib-only stand-in for AWS's awslambdaric.

Run as `/usr/bin/python3 -u bootstrap.py` in the function's code folder, with the
environment Lambda gives a runtime (AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT,
AWS_LAMBDA_FUNCTION_*, ...). It imports the handler once, then serves the Runtime API
2018-06-01 for ever: GET /next, call the handler, POST /response or /error. Error types,
messages and body shapes follow awslambdaric, so callers see what they would see on AWS.
"""

import http.client
import importlib
import json
import os
import sys
import time
import traceback
import types

API = "/2018-06-01/runtime"
ERROR_CONTENT_TYPE = "application/vnd.aws.lambda.error+json"


class Fault(Exception):
    """A failure the runtime itself diagnoses, reported with a Runtime.* type."""

    def __init__(self, error_type, message, trace=None):
        super().__init__(message)
        self.error_type, self.message, self.trace = error_type, message, trace or []


class RuntimeAPI:
    """One keep-alive connection, since a new one per request costs measurable time."""

    def __init__(self, host_port):
        self.host_port = host_port
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        # The server may have closed an idle keep-alive connection while the handler ran;
        # that shows only on first use, so retry once on a fresh connection.
        for attempt in (1, 2):
            if self.conn is None:
                # No timeout, as on Lambda: /next blocks for as long as the environment
                # stays idle, and an answer is never abandoned on a slow host. Explicitly
                # None, since a handler's socket.setdefaulttimeout() would otherwise apply
                # to every connection made after it.
                self.conn = http.client.HTTPConnection(self.host_port, timeout=None)
            try:
                self.conn.request(method, API + path, body, headers or {})
                response = self.conn.getresponse()
                return response, response.read()
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise

    def post_error(self, path, error):
        headers = {"Content-Type": ERROR_CONTENT_TYPE,
                   "Lambda-Runtime-Function-Error-Type": error["errorType"]}
        return self.request("POST", path, json.dumps(error).encode(), headers)


class LambdaContext:
    def __init__(self, request_id, function_arn, deadline_ms, client_context, identity):
        env = os.environ
        self.aws_request_id = request_id
        self.invoked_function_arn = function_arn
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.client_context = None
        if client_context:
            cc = json.loads(client_context)
            self.client_context = types.SimpleNamespace(
                client=cc.get("client"), custom=cc.get("custom"), env=cc.get("env"))
        ci = json.loads(identity) if identity else {}
        self.identity = types.SimpleNamespace(
            cognito_identity_id=ci.get("cognitoIdentityId"),
            cognito_identity_pool_id=ci.get("cognitoIdentityPoolId"))
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def load_handler(spec):
    try:
        module_name, function_name = spec.rsplit(".", 1)
    except ValueError as e:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{spec}': {e}")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as e:
        raise Fault("Runtime.ImportModuleError",
                    f"Unable to import module '{module_name}': {e}")
    except SyntaxError as e:
        raise Fault("Runtime.UserCodeSyntaxError",
                    f"Syntax error in module '{module_name}': {e}",
                    [f'  File "{e.filename}" Line {e.lineno}\n    {e.text}'])
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise Fault("Runtime.HandlerNotFound",
                    f"Handler '{function_name}' missing on module '{module_name}'")


def make_error(e, request_id=""):
    if isinstance(e, Fault):
        return {"errorMessage": e.message, "errorType": e.error_type,
                "requestId": request_id, "stackTrace": e.trace}
    # The user wants to see their own frames, not ours or importlib's.
    ours = (__file__, importlib.__file__)
    frames = traceback.extract_tb(e.__traceback__)
    while frames and (frames[0].filename in ours or frames[0].filename.startswith("<frozen")):
        frames = frames[1:]
    return {"errorMessage": str(e), "errorType": type(e).__name__,
            "requestId": request_id, "stackTrace": traceback.format_list(frames)}


def log_error(error):
    # Lambda logs an unhandled error like this, so the function's log shows why it failed.
    print(f"[ERROR] {error['errorType']}: {error['errorMessage']}\n"
          "Traceback (most recent call last):\n" + "".join(error["stackTrace"]),
          file=sys.stderr)


def invoke(handler, response, body):
    request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
    trace_id = response.getheader("Lambda-Runtime-Trace-Id")
    if trace_id:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    try:
        context = LambdaContext(
            request_id, response.getheader("Lambda-Runtime-Invoked-Function-Arn"),
            int(response.getheader("Lambda-Runtime-Deadline-Ms") or 0),
            response.getheader("Lambda-Runtime-Client-Context"),
            response.getheader("Lambda-Runtime-Cognito-Identity"))
        try:
            event = json.loads(body)
        except ValueError as e:
            raise Fault("Runtime.UnmarshalError", f"Unable to unmarshal input: {e}")
        result = handler(event, context)
        try:
            return request_id, json.dumps(result).encode(), None
        except (TypeError, ValueError, OverflowError) as e:
            raise Fault("Runtime.MarshalError", f"Unable to marshal response: {e}")
    except Exception as e:
        error = make_error(e, request_id)
        log_error(error)
        return request_id, None, error


def main():
    api = RuntimeAPI(os.environ["AWS_LAMBDA_RUNTIME_API"])
    sys.path.insert(0, os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()))
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as e:
        error = make_error(e)
        log_error(error)
        api.post_error("/init/error", error)
        sys.exit(1)

    while True:
        response, body = api.request("GET", "/invocation/next")
        if response.status != 200:
            # 403/500 mean the environment is going away; Lambda expects a prompt exit.
            sys.exit(f"bootstrap: GET /next answered {response.status}: {body!r}")
        request_id, payload, error = invoke(handler, response, body)
        if error is None:
            path = f"/invocation/{request_id}/response"
            response, body = api.request("POST", path, payload,
                                         {"Content-Type": "application/json"})
        else:
            path = f"/invocation/{request_id}/error"
            response, body = api.post_error(path, error)
        # A refusal (e.g. 413, response too large) fails this invocation only; the
        # platform tells the caller, and the environment serves the next one.
        if response.status // 100 != 2:
            print(f"bootstrap: POST {path} answered {response.status}: {body!r}",
                  file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except (OSError, http.client.HTTPException) as e:
        sys.exit(f"bootstrap: Runtime API unreachable: {e!r}")
