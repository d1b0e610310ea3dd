"""Sandbox for LLM-authored programs: static validation (`validate`), subprocess execution with limits
(`runner`), authors (`authors`) and the authoring pipeline (`authored`)."""
