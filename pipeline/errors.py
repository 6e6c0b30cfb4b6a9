"""The one exception type the pipeline raises for problems a user can fix."""


class PipelineError(Exception):
    """A problem with input, configuration or models, with a message a user can act on.

    Messages are one line, say what went wrong and how to fix it, and never carry
    transcript text or participant names.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} {hint}" if hint else message)
