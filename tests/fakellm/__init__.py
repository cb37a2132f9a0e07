"""A scriptable local model server speaking the OpenAI, Anthropic and Gemini wire formats."""

from tests.fakellm.scripts import (
    WIRE_FORMATS,
    Fault,
    FaultKind,
    ModelScript,
    ModerationScript,
    RecordedRequest,
    WireFormat,
    demo_script,
    guard_verdicts,
    plausible_opinion,
)
from tests.fakellm.server import FakeLLM

__all__ = [
    "WIRE_FORMATS",
    "FakeLLM",
    "Fault",
    "FaultKind",
    "ModelScript",
    "ModerationScript",
    "RecordedRequest",
    "WireFormat",
    "demo_script",
    "guard_verdicts",
    "plausible_opinion",
]
