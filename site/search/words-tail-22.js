paperdigestSearch.words(22,[["electroencephalographi",1]]);
