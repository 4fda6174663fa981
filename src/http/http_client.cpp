// libcurl transport (to be written).
