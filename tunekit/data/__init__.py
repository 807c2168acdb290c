"""Reading the user's data into datasets: file readers, split sources (files, folders, Hub), label sets, lengths."""
