paperdigestSearch.words(15,[["correspondingli",1],["straightforward",4]]);
