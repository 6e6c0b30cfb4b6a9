"""Word lists the de-identification recognizers read."""
