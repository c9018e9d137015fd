"""Matching: 扶持谁 / 谁来扶 / 怎么扶 — candidates, explainable scores, capacity-respecting assignment.

features (graph records → arrays) → candidates (spatial search + eligibility rules)
→ scoring (rule score, learned model) → assign (min-cost flow) → run (stored in Neo4j).
"""
