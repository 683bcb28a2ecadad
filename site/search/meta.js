paperdigestSearch.meta({"format":3,"fields":["title","abstract","author"],"boosts":[10,1,5],"k1":1.2,"b":0.75,"documents":232,"chunk":32,"keyChars":3,"segments":[[0,128],[128,192],[192,232]]});
