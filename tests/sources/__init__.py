"""API clients (sources/): parsing real-format pages, paging, retries."""
