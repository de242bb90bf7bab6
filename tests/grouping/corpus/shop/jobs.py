"""Async tasks with bugs in them."""

import asyncio
from typing import Dict, List


async def fetch(row: Dict[str, int]) -> int:
    await asyncio.sleep(0)
    return row["id"] * 2


async def convert(text: str) -> int:
    await asyncio.sleep(0)
    return int(text)


async def run_all(rows: List[Dict[str, int]]) -> List[int]:
    return list(await asyncio.gather(*(fetch(row) for row in rows)))
