"""Receipts and decision letters as PDF, and their verification (docs/receipts.md)."""
