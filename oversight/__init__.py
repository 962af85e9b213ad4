"""Oversight: live dashboards of backlog, deadlines and throughput for supervisors (the whole
city) and leads (their department), from summary figures kept up to date as cases move."""
