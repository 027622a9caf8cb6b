"""One serializer per telephony protocol: wire messages <-> frames. The pipeline after them is shared."""
from voice_gateway.serializers.base import FrameSerializer

__all__ = ["FrameSerializer"]
