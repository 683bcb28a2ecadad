paperdigestSearch.words(14,[["multidimension",2],["polylogarithim",1],["scriptsizeflaw",1],["subcomposition",1],["underparameter",1]]);
