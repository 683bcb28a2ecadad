paperdigestSearch.meta({"fields":["title","abstract"],"documents":232,"chunk":32,"keyChars":3,"shards":["\"ht"]});
