"""espeak-ng (Debian package): small, robotic, always there; the offline fallback."""

from __future__ import annotations

import asyncio
import shutil

import numpy as np

from services.narrator.pcm import decode
from services.narrator.voices import VoiceUnavailable

DEFAULT_VOICE = "en-us"
WORDS_PER_MINUTE = 160


class EspeakVoice:
    """`espeak-ng --stdout` per sentence; the text goes in on stdin, never as an argument."""

    def __init__(self, voice: str = "") -> None:
        self.binary = shutil.which("espeak-ng")
        if self.binary is None:
            raise VoiceUnavailable("espeak-ng is not installed (apt-get install espeak-ng)")
        self.voice = voice or DEFAULT_VOICE
        self.name = f"espeak-ng:{self.voice}"

    async def speak(self, text: str) -> np.ndarray:
        process = await asyncio.create_subprocess_exec(
            self.binary or "espeak-ng",
            "-v",
            self.voice,
            "-s",
            str(WORDS_PER_MINUTE),
            "--stdout",
            "--stdin",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        wav, err = await process.communicate(text.encode())
        if process.returncode != 0 or not wav:
            raise VoiceUnavailable(f"espeak-ng failed: {err.decode(errors='replace')[-300:]}")
        return await asyncio.to_thread(decode, wav)
