paperdigestSearch.words(16,[["elastoviscoplast",2]]);
