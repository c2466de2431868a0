"""Reports: tables, gaps and plots from evaluation results."""
