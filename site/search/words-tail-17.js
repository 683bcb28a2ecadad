paperdigestSearch.words(17,[["magnetohydrodynam",1]]);
