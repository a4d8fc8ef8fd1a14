"""Shared by the stress campaigns: how big to run them, and a generated corpus."""

from __future__ import annotations

import os
import random
from pathlib import Path

# KB_STRESS=full runs the campaigns at full size (see README); the default is the bounded CI size.
FULL = os.environ.get("KB_STRESS", "").lower() == "full"

VOCABULARY = ("统一战线 乡村振兴 民营经济 民族宗教 党外知识分子 新的社会阶层 防汛救灾 营商环境 同心工程 "
              "祁县 平遥县 灵石县 榆次区 太谷区 介休市 工作 推进 加强 发展 落实 组织 开展 服务 群众").split()


def corpus_of(root: Path, count: int, seed: int = 7, prefix: str = "doc") -> Path:
    """``count`` generated reports (each mentions 统一战线, so one search finds them all)."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        body = "".join(rng.choice(VOCABULARY) + rng.choice(",,,。") for _ in range(rng.randint(300, 900)))
        (root / f"{prefix}{i:04d}.txt").write_text(
            f"第{i}号统一战线工作报告\n{body}\n{2000 + i % 25}年1月{i % 28 + 1}日", encoding="utf-8")
    return root
