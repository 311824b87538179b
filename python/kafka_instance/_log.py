"""Structured log records, through Python's logging (logger
"kafka_instance"): every record carries log_type, controller, subject and
payload as `extra` fields, as the library's own records do."""

import logging
import traceback

logger = logging.getLogger("kafka_instance")


def record(level, message, controller, subject, payload=None):
    if logger.isEnabledFor(level):
        log_type = {logging.ERROR: "error", logging.WARNING: "warning",
                    logging.INFO: "info"}.get(level, "debug")
        logger.log(level, message, extra={
            "log_type": log_type, "controller": controller, "subject": subject,
            "payload": payload})


def exception_details(error):
    """An exception as a dict: its type, message and traceback."""
    return {
        "type": type(error).__name__,
        "message": str(error),
        "traceback": "".join(traceback.format_exception(type(error), error,
                                                        error.__traceback__)),
    }


def failure(message, controller, subject, error):
    record(logging.ERROR, message, controller, subject, exception_details(error))
