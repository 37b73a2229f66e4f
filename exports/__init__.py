"""Files handed to Sở Nội vụ: workbook, photo archive, badges, documents (built in a later issue)."""
