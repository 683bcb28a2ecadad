paperdigestSearch.meta({"format":2,"fields":["title","abstract"],"boosts":[10,1],"k1":1.2,"b":0.75,"documents":232,"chunk":32,"keyChars":3,"segments":[[0,128],[128,192],[192,232]]});
