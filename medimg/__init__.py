"""Helpers shared by the course notebooks: data paths, viewers and plotting plumbing.

Everything a learner is meant to learn stays visible in the notebooks; this package
holds only what would distract from the lesson.
"""

__version__ = "0.1.0"
