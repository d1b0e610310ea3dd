"""Sandbox for LLM-authored programs: static validation (`validate`, with `metadata` and the STORY
`template`), subprocess execution with limits (`runner`, whose reply is checked by `result`), authors
(`authors`) and the authoring pipeline (`authored`). `limits` states the threat model and every bound on
authored text in ppt-bench's own process; `adversarial` holds the attacks with the reason each must give,
and `audit` runs them and measures the parent's memory."""
