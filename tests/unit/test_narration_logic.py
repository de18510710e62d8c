"""The narrator's plain functions: beats, loudness, trimming, the track's timings, voices."""

from __future__ import annotations

import asyncio
import shutil

import numpy as np
import pytest

from services.narrator.beats import split_beats
from services.narrator.loudness import PEAK_LIMIT, integrated_loudness, normalise
from services.narrator.pcm import SAMPLE_RATE, decode, from_wav, to_wav, trim
from services.narrator.speaking import cache_key
from services.narrator.track import PAUSE_SECONDS, assemble
from shared.plans import MAX_BEAT_CHARS
from shared.settings import SettingsError, load_settings

RATE = SAMPLE_RATE


def tone(seconds: float, *, amplitude: float = 1.0, hz: float = 997.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_beats_are_whole_sentences():
    text = (
        "A right triangle has sides a, b and c, e.g. 3, 4 and 5. Then pi is 3.14 or so! "
        "Is that all? No. The hypotenuse is the longest side."
    )
    assert split_beats(text) == [
        "A right triangle has sides a, b and c, e.g. 3, 4 and 5.",
        "Then pi is 3.14 or so!",
        "Is that all? No.",  # a fragment joins the sentence before it
        "The hypotenuse is the longest side.",
    ]
    assert split_beats("  \n ") == []


def test_an_overlong_sentence_is_cut_at_clause_breaks():
    sentence = ", ".join(f"clause number {i} goes on for a while" for i in range(20)) + "."
    beats = split_beats(sentence)
    assert len(beats) > 1 and all(len(beat) <= MAX_BEAT_CHARS for beat in beats)
    assert " ".join(beats) == sentence


def test_loudness_matches_the_standards_reference_tone():
    # BS.1770: a 997 Hz sine at 0 dBFS reads -3.01 LUFS; 20 dB quieter, -23.01.
    assert integrated_loudness(tone(3)) == pytest.approx(-3.01, abs=0.05)
    assert integrated_loudness(tone(3, amplitude=0.1)) == pytest.approx(-23.01, abs=0.05)
    assert integrated_loudness(np.zeros(RATE * 2, np.float32)) == float("-inf")


def test_normalise_reaches_minus_16_lufs_without_clipping():
    rng = np.random.default_rng(1)
    # speech-like: bursts of noise with loud peaks, separated by silence
    bursts = [
        np.concatenate([rng.normal(0, 0.02 * (1 + k % 3), RATE // 2), np.zeros(RATE // 4)])
        for k in range(8)
    ]
    signal = np.concatenate(bursts).astype(np.float32)
    signal[1000] = 0.9  # a plosive
    out = normalise(signal)
    assert integrated_loudness(out) == pytest.approx(-16.0, abs=0.5)
    assert np.max(np.abs(out)) <= PEAK_LIMIT
    short = tone(0.2)
    assert np.array_equal(normalise(short), short)  # too short to measure: untouched


def test_trim_removes_the_engines_silence_but_keeps_the_attack():
    speech = tone(1.0, amplitude=0.3)
    padded = np.concatenate([np.zeros(RATE // 2), speech, np.zeros(RATE)]).astype(np.float32)
    trimmed = trim(padded)
    assert len(speech) <= len(trimmed) <= len(speech) + 0.03 * RATE
    assert trim(np.zeros(RATE, np.float32)).size == 0


def test_wav_round_trip_and_decoding_other_rates():
    samples = tone(0.5, amplitude=0.5)
    assert np.allclose(from_wav(to_wav(samples)), samples, atol=1e-4)
    resampled = decode(to_wav(tone(1.0, amplitude=0.5)[::2], rate=24_000))
    assert abs(len(resampled) - RATE) < 0.01 * RATE


def test_track_lays_beats_end_to_end_with_pauses():
    audio = [tone(1.0), tone(2.0), tone(0.5)]
    track, beats = assemble(["one", "two", "three"], audio)
    assert [b.start_seconds for b in beats] == [0.0, 1.0 + PAUSE_SECONDS, 3.0 + 2 * PAUSE_SECONDS]
    assert [b.spoken_seconds for b in beats] == [1.0, 2.0, 0.5]
    assert beats[-1].duration_seconds == 0.5  # no pause after the last word
    assert len(track) / RATE == pytest.approx(3.5 + 2 * PAUSE_SECONDS, abs=1e-3)
    at = round(beats[1].start_seconds * RATE)
    assert np.allclose(track[at : at + 100], audio[1][:100])
    assert assemble([], [])[1] == []


def test_cache_key_names_voice_and_text():
    assert cache_key("piper:a", "Hi there.") == cache_key("piper:a", "Hi there.")
    assert cache_key("piper:a", "Hi there.") != cache_key("piper:b", "Hi there.")
    assert cache_key("piper:a", "Hi there.") != cache_key("piper:a", "Hi there!")


def test_tts_settings_parse_and_say_what_they_accept():
    assert load_settings({}).narration_on
    assert not load_settings({"TTS_MODEL": "none"}).narration_on
    assert not load_settings({"ENABLE_NARRATION": "false"}).narration_on
    assert (
        load_settings({"TTS_MODEL": "openai/gpt-4o-mini-tts"}).tts_model == "openai/gpt-4o-mini-tts"
    )
    with pytest.raises(SettingsError, match=r"TTS_MODEL.*openai/<model>"):
        load_settings({"TTS_MODEL": "festival"})
    with pytest.raises(SettingsError, match="TTS_FALLBACK"):
        load_settings({"TTS_FALLBACK": "maybe"})


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_offline_voices_speak_real_audio():
    from services.narrator.voices import offline_voice

    settings = load_settings({})
    for engine in ("builtin", "espeak-ng"):
        voice = offline_voice(settings, engine=engine)
        audio = asyncio.run(voice.speak("The hypotenuse is the longest side."))
        assert 1.0 < len(audio) / RATE < 5.0, voice.name
        assert integrated_loudness(audio) > -40, voice.name
    assert offline_voice(settings).name == "piper:en_US-joe-medium"
    assert offline_voice(settings, engine="espeak-ng").name == "espeak-ng:en-us"


def test_control_characters_are_not_spoken() -> None:
    assert split_beats("Ohm's law relates\x00 voltage and current. It is linear.") == [
        "Ohm's law relates voltage and current.",
        "It is linear.",
    ]
