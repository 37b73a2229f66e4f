"""The report's web page: the whole form on one mobile page, opened from the chat, on the same answers as the chat."""
