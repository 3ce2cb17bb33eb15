"""One exception hierarchy; the CLI turns any ScalelabError into one line and exit code 1."""


class ScalelabError(Exception):
    """Base of every error scalelab raises on purpose."""


class ConfigError(ScalelabError):
    """A user file or flag is malformed: names the file/field/flag."""


class CatalogError(ScalelabError):
    """An unknown catalog id or a malformed catalog entry."""


class InfeasiblePlan(ScalelabError):
    """A parallel plan that cannot run at all (not merely one that does not fit in memory)."""


class CheckpointError(ScalelabError):
    """A checkpoint that is missing, truncated or corrupted."""
