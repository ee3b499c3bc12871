"""BRENT's audio engine: tracks, the extractor, the timed source, the queue and the per-guild player.

Nothing here imports the bot or the cogs, so every piece can be tested without Discord.
"""
