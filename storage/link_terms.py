"""A bilingual (English, Spanish, French) term list of the human-rights
vocabulary recommendations are written in: the bridge that lets the
suggester (storage/link_similarity.py) see that "violence against women",
"violencia contra la mujer" and "violence à l'égard des femmes" name one
thing (issue 15).

Each concept is a short id and the ways the three languages name it. A term
is written as people write it ("access to justice", "acceso a la justicia");
it is matched on the suggester's folded text without its stop words, so
"to", "a la" and the like are dropped from it here too, and up to two other
words may stand between its words ("violencia basada en el género" is
"violencia ... genero"). A word ending in "*" matches any word it starts
("discrimin*": discrimination, discriminación, discriminatoire).

Written from the general vocabulary of UPR, treaty-body and
special-procedure recommendations (themes, affected persons, the acts
asked), not from the labelled benchmark's pairs, and with no State's own
names or acronyms: only a registry's own wording should link two texts by
its institutions' names.
"""

from __future__ import annotations

import re
from functools import lru_cache

# concept id: terms, "|"-separated, in any of the three languages.
TERMS: dict[str, str] = {
    # Persons affected
    "women": "women|woman|mujer|mujeres|femme|femmes",
    "girls": "girl*|nina|ninas|fillette*|jeunes filles",
    "children": "child|children|nino|ninos|ninez|infancia|infantil*|enfant*|enfance|childhood",
    "adolescents": "adolescen*|youth|young people|jovenes|juventud|jeunes|jeunesse",
    "men": "men|hombre*|varones|hommes",
    "mothers": "mother*|madre*|mere|meres|maternal*|materno*",
    "family": "family|families|familia*|famille*|familial*|familiar*",
    "afrodescendants": "african descent|afro*|ascendencia africana|ascendance africaine",
    "indigenous": "indigenous|indigena*|autochtone*|pueblos originarios|peuples autochtones",
    "minorities": "minorit*|minoria*",
    "migrants": "migrant*|migratori*|immigra*|inmigra*|emigra*|emigrant*",
    "refugees": "refugee*|refugiad*|refugie*|asylum|asilo|asile|demandeurs asile",
    "disability": "disabilit*|disabled|discapacidad*|discapacitad*|handicap*",
    "older": "older persons|elderly|older people|personas mayores|adultos mayores|personnes agees|tercera edad",
    "lgbti": "sexual orientation|gender identity|orientacion sexual|identidad genero|orientation sexuelle|identite genre|lgbt*|homosexual*|transgender|transexual*|intersex*",
    "rural": "rural|rurales|ruraux|rurale*|countryside",
    "poor": "poverty|poor|pobreza|pobres|pauvrete|pauvres|indigencia|indigence|extreme poverty",
    "vulnerable": "vulnerab*|marginali*|excluded|excluidos|exclus",
    "victims": "victim*|victima*|survivor*|sobreviviente*|superviviente*",
    "detainees": "prisoner*|detainee*|inmate*|reclus*|presos|presas|detenid*|detenus|detenues|privadas libertad|privados libertad|persons deprived liberty|personnes privees liberte|personas privadas",
    "juveniles": "juvenile*|juvenil*|minors|menores|mineurs|young offenders|adolescentes infractores|conflict law|conflicto ley|conflit loi",
    "defenders": "human rights defenders|defensores derechos humanos|defenseurs droits homme|defensoras",
    "journalists": "journalist*|periodista*|journaliste*|reporter*",
    "domestic_workers": "domestic worker*|trabajador* domestic*|trabajo domestico|servicio domestico|empleada* domestica*|travailleu* domestique*|employe* maison|travail domestique",
    "street_children": "street children|children street|ninos calle|situacion calle|enfants rues|enfants rue",
    # Violence and exploitation
    "violence": "violen*",
    "vaw": "violence women|violence girls|violencia mujer|violencia mujeres|violence femmes|violence egard femmes",
    "domestic_violence": "domestic violence|family violence|intimate partner violence|violencia domestica|violencia intrafamiliar|violencia familiar|violence domestique|violence familiale|violence conjugale",
    "gbv": "gender based violence|gender violence|violencia genero|violencia basada genero|violence sexiste|violence fondee genre|violences sexistes|violencia sexista",
    "sexual_violence": "sexual violence|sexual abuse|violencia sexual|abuso sexual|abusos sexuales|violence sexuelle|violences sexuelles|abus sexuel*",
    "rape": "rape|violacion|violaciones|viol|viols",
    "marital_rape": "marital rape|spousal rape|rape marriage|violacion conyugal|violacion matrimonio|viol conjugal|viol marital",
    "harassment": "harass*|acoso|hostigamiento|harcelement",
    "femicide": "femicide*|feminicide*|femicidio*|feminicidio*",
    "trafficking": "traffick*|trafficked|trata|traite|trafic personnes|trafico personas",
    "sexual_exploitation": "sexual exploitation|commercial exploitation|explotacion sexual|explotacion comercial|exploitation sexuelle|prostitut*|pornograph*|pornografia|sex tourism|turismo sexual",
    "exploitation": "exploit*|explota*",
    "child_labour": "child labour|child labor|working children|trabajo infantil|trabajo ninos|travail enfants|travail des enfants|ninos trabajadores",
    "torture": "tortur*",
    "ill_treatment": "ill treatment|malos tratos|maltrato*|mauvais traitements|cruel|crueles|degrad*|inhum*",
    "corporal_punishment": "corporal punishment|castigo corporal|castigos corporales|chatiment corporel*",
    "disappearance": "disappear*|desaparici*|desapareci*|disparition*|disparu*",
    "death_penalty": "death penalty|capital punishment|pena muerte|peine mort",
    "excessive_force": "excessive force|use force|uso fuerza|uso excesivo|recours force|usage excessif force|police violence|violencia policial",
    # Equality and discrimination
    "discrimination": "discrimin*",
    "discriminatory_laws": "discriminatory provision*|discriminatory law*|discriminatory legislation|disposiciones discriminatorias|leyes discriminatorias|normas discriminatorias|legislacion discriminatoria|disposiciones legales discriminatorias|dispositions discriminatoires|lois discriminatoires|legislation discriminatoire",
    "racism": "racis*|racial*|raciste*|xenophob*|xenofob*",
    "equality": "equal*|igualdad*|igualitari*|egalit*|equidad|equite|equity|parity|paridad|parite",
    "gender": "gender|genero|genre|sexes",
    "gender_equality": "gender equality|equality men women|equality women men|igualdad genero|igualdad mujeres hombres|igualdad hombres mujeres|egalite sexes|egalite femmes hommes|egalite hommes femmes|egalite genre|equidad genero",
    "stereotypes": "stereotyp*|estereotip*|prejudic*|prejuicio*|prejuge*|patriarc*|sexist attitudes|actitudes sexistas|attitudes sexistes",
    "inequality": "inequalit*|desigualdad*|inegalite*|disparit*|brecha*|gap|gaps|ecart*",
    "inclusion": "inclusion|inclusive|inclusiv*|integration social|social integration|integracion social|insercion social",
    # Justice
    "law": "law|laws|legislat*|ley|leyes|loi|lois|legal framework|marco juridico|marco legal|marco normativo|cadre juridique|cadre legislatif|bill|proyecto ley|projet loi|normativa",
    "comprehensive_law": "comprehensive law|comprehensive legislation|ley integral|legislacion integral|loi globale|loi complete|legislation globale",
    "criminalise": "criminali*|tipific*|tipifiq*|penaliz*|penalis*|criminal offence|delito|delitos|infraction*|code penal|codigo penal|penal code|criminal code|crime|crimes|crimen|crimenes",
    "repeal": "repeal*|abolish*|abolition|derog*|abrog*|abolir|abolic*|annul*|anular|eliminate provision*|amend*|enmend*|modific*|reform*",
    "domestic_law": "domestic law|domestic legislation|national legislation|national law|derecho interno|legislacion nacional|legislacion interna|ordenamiento juridico|droit interne|legislation nationale|harmoni*|armoniz*|incorpor*|domesticat*|transpo*",
    "ratify": "ratif*|accede|accession|adhesion|adherir|adherer|become party|ser parte|devenir partie",
    "justice": "justice|justicia|judicial*|judiciary|judiciaire*|court*|tribunal*|juzgado*|juge*|judge*|juez|jueces|magistra*|prosecutor*|fiscal*|ministerio publico|ministere public",
    "access_justice": "access justice|acceso justicia|acces justice|legal aid|asistencia juridica|asistencia letrada|defensa publica|aide juridictionnelle|assistance juridique",
    "family_courts": "family court*|family matters|tribunal* familia|juzgado* familia|juzgados letrados familia|tribunaux famille|affaires familiales|juge famille",
    "prosecute": "prosecut*|punish*|sanction*|enjuici*|castig*|sancion*|poursuiv*|poursuite*|perpetrator*|autores|responsables|auteurs|convict*|condena*|condamn*|bring justice|llevar justicia",
    "impunity": "impunity|impunidad|impunite",
    "investigate": "investigat*|investiga*|enquet*|inquir*|esclarec*|clarify|elucid*",
    "reparation": "reparation*|reparacion*|redress|compensat*|indemniza*|indemnis*|resarcimiento",
    "rehabilitation": "rehabilita*|reintegra*|reinser*|reinsert*|recovery|recuperacion|readaptation|social reintegration",
    "protection_orders": "protection order*|restraining order*|ordenes proteccion|medidas proteccion|medidas cautelares|ordonnance* protection",
    "shelters": "shelter*|albergue*|casa* acogida|casa* amparo|refugios|foyer*|centres accueil|centros atencion|hotline*|helpline*|linea telefonica|ligne* telephonique*",
    "criminal_proceedings": "criminal proceeding*|criminal procedure|proceso penal|procesos penales|procedimiento penal|codigo proceso penal|procedure penale|proces penal",
    "dictatorship": "dictatorship|dictadura|dictature|de facto regime|regimen facto|regime facto|military regime|regimen militar|regime militaire|state terrorism|terrorismo estado|1973 1985",
    "amnesty": "amnesty|amnistia|amnistie|expiry law|caducidad|caducite|statute limitations|prescripcion|prescription",
    "truth": "truth|verdad|verite|memory|memoria|memoire|past violations|violaciones pasado|archives|archivos",
    # Detention
    "detention": "detention*|detencion*|detenc*|prison*|penitenciari*|penitentiar*|carcel*|carcelari*|incarcerat*|encarcela*|imprison*|custody|custodia|reclusion|privacion libertad|privation liberte|deprivation liberty|deprived liberty|penal institutions|centros reclusion|centros privacion libertad",
    "prison_conditions": "prison conditions|conditions detention|detention conditions|condiciones carcelarias|condiciones detencion|condiciones centros penitenciarios|condiciones reclusion|conditions carcerales|conditions detention|overcrowd*|hacinamiento|sobrepoblacion|surpopulation|surpeuplement",
    "pretrial": "pre trial|pretrial|pre trial detention|prision preventiva|detencion preventiva|detention provisoire|detention preventive|remand|unconvicted|not convicted|sin condena|procesados|prevenus|awaiting trial",
    "alternatives": "alternativ*|sustitut*|substitut*|non custodial|no privativa*|non privative*|probation|libertad vigilada",
    "separate": "separat*|separa*|separe*",
    "last_resort": "last resort|ultimo recurso|dernier recours|shortest possible|plazo mas breve|periodo mas breve|duree plus breve",
    "npm": "national preventive mechanism|national mechanism prevention torture|mecanismo nacional prevencion|mecanisme national prevention|npm|mnp",
    # Institutions and process
    "nhri": "national human rights institution|national institution human rights|institucion nacional derechos humanos|institution nationale droits homme|institution nationale droits humains|nhri|ombudsman|ombudsperson|defensor pueblo|defensoria|mediateur",
    "paris_principles": "paris principles|principios paris|principes paris",
    "accreditation": "accredit*|acredit*",
    "independence": "independen*|autonom*|autonomie",
    "machinery": "national machinery|gender machinery|women s machinery|mecanismo nacional adelanto mujer|mecanismo nacional mujer|mecanismos adelanto mujer|mecanisme national promotion femme|institut national femmes|instituto nacional mujeres|ministry women|ministerio mujer|ministere femmes|women s institute|institute women",
    "resources": "resource*|recurso*|ressource*|fund|funds|funding|financ*|budget*|presupuest*|gasto*|spending|expenditure*|depense*|allocat*|asigna*|inversion*|investment*",
    "coordination": "coordinat*|coordina*|coordonn*|inter institutional|interinstitucional|interministerial|multisectoral|multisectorial|multisectoriel*",
    "plan": "plan|plans|planes|strategy|strategies|estrategia*|strategie*|action plan|plan accion|plan action|plan nacional|national plan|plan national",
    "programme": "programme*|program|programs|programa*|project*|proyecto*|projet*|initiative*|iniciativa*",
    "policy": "policy|policies|politica publica|politicas publicas|public policies|politique* publique*|politicas",
    "data": "data|datos|donnees|statisti*|estadistic*|indicator*|indicador*|indicateur*|disaggregated|desglosad*|desagregad*|ventilad*|ventilee*|information system*|sistema* informacion|registr* unico|database|base datos",
    "studies": "stud*|estudio*|etude*|survey*|encuesta*|enquete*|research|assessment|evaluat*|evalua*",
    "monitoring": "monitor*|supervis*|vigila*|surveill*|follow up|seguimiento|suivi",
    "civil_society": "civil society|sociedad civil|societe civile|ngo|ngos|ong|ongs|non governmental|no gubernamentales|non gouvernementales|organizaciones sociales",
    "consultation": "consult*|participat*|participa*|particip*",
    "treaty_reporting": "periodic report*|informe periodico|informes periodicos|rapport periodique|rapports periodiques|treaty bodies|organos tratados|organes traites|reporting obligations|overdue reports",
    "concluding_observations": "concluding observations|observaciones finales|observations finales|recommendations committee|recomendaciones comite",
    "dissemination": "disseminat*|difund*|difusion|diffus*|divulg*|widely|ampliamente|largement|translat*|tradu*",
    "special_procedures": "special procedures|procedimientos especiales|procedures speciales|standing invitation|invitacion permanente|invitacion abierta|invitation permanente|special rapporteur*|relator especial|rapporteur special",
    "upr": "universal periodic review|examen periodico universal|examen periodique universel|upr|epu",
    "cooperation": "cooperat*|coopera*|cooper*|technical assistance|asistencia tecnica|assistance technique",
    # Awareness and training
    "awareness": "awareness|sensitiz*|sensitis*|sensibiliza*|sensibilis*|campaign*|campana*|concienci*|concienti*|conscienti*|public information|informacion publica|information public",
    "training": "train*|capacita*|formacion|formation|curso*|courses|instruction|instruccion",
    "media": "media|medios comunicacion|medios|medias|television|press|prensa|presse|advertis*|publicidad|publicite",
    "hr_education": "human rights education|educacion derechos humanos|education droits homme|enseignement droits homme",
    "officials": "official*|funcionari*|fonctionnaire*|agents|agentes|personal|personnel|staff|public servants|servidores publicos|civil servants",
    "police": "police|policia*|policial*|policier*|law enforcement|fuerzas seguridad|fuerzas orden|forces ordre|forces securite",
    # Economic, social and cultural rights
    "education": "educat*|educacion|educativ*|educatif*|ensenanza|enseignement|schooling|escolariza*|scolaris*",
    "school": "school*|escuela*|escolar*|ecole*|scolaire*|liceo*|lycee*|secondary|secundari*|secondaire*|primary|primaria|primaire",
    "dropout": "drop out|dropout|dropping out|desercion|abandono escolar|abandono estudios|abandono escuela|abandon scolaire|decrochage|school retention|retencion escolar|desvinculacion|completion|culminacion|egreso",
    "early_childhood": "early childhood|primera infancia|petite enfance|preschool|pre school|preescolar|prescolaire|kindergarten|jardin infantes|educacion inicial",
    "sex_education": "sex education|sexual education|sexuality education|educacion sexual|education sexuelle|educacion integral sexualidad",
    "health": "health|salud|sante|sanitari*|medical|medica*|medicaux|healthcare|atencion medica|soins",
    "srh": "reproductive|reproductiv*|reproducti*|sexual health|salud sexual|sante sexuelle|sexual reproductive",
    "abortion": "abortion*|aborto*|avortement*|interrupcion embarazo|interrupcion voluntaria|interruption grossesse|interruption volontaire|termination pregnancy|unsafe abortion",
    "pregnancy": "pregnan*|embaraz*|grossesse*|maternity|maternidad|maternite|childbirth|parto|accouchement",
    "teen_pregnancy": "teenage pregnanc*|adolescent pregnanc*|early pregnanc*|embarazo* adolescen*|embarazo* precoz|grossesse* precoce*|grossesse* adolescent*",
    "contraception": "contracept*|anticoncept*|family planning|planificacion familiar|planification familiale",
    "hiv": "hiv|aids|vih|sida",
    "maternal_mortality": "maternal mortality|mortalidad materna|mortalite maternelle|maternal deaths|muertes maternas",
    "social_protection": "social protection|social assistance|social security|social benefits|social transfers|seguridad social|proteccion social|asistencia social|prestaciones sociales|transferencias|securite sociale|protection sociale|aide sociale|prestations sociales|cash transfer*|asignaciones familiares|allocations familiales",
    "social_spending": "social spending|social expenditure|social investment|gasto social|gasto publico social|inversion social|depenses sociales|investissement social",
    "housing": "housing|vivienda*|logement*|habitat*|shelter housing|asentamientos|settlements|bidonville*",
    "water": "water|agua|eau|sanitation|saneamiento|assainissement",
    "food": "food|alimenta*|aliment*|nutrition*|nutricion*|malnutri*|desnutri*|hunger|hambre|faim",
    "living_standards": "standard living|standards living|nivel vida|niveau vie|living conditions|condiciones vida|conditions vie|quality life|calidad vida|qualite vie|basic needs|necesidades basicas|besoins essentiels|well being|bienestar|bien etre",
    "development": "development|desarrollo|developpement|socioeconomic|socioeconomico*|socio economique*",
    "development_goals": "millennium development goals|objetivos desarrollo milenio|objectifs millenaire developpement|sustainable development goals|objetivos desarrollo sostenible|objectifs developpement durable|mdgs|mdg|odm|sdgs|sdg|ods|odd|agenda 2030|2030 agenda",
    "employment": "employment|employ*|empleo*|emploi*|labour market|labor market|mercado laboral|mercado trabajo|marche travail|jobs|job|occupation*|ocupacion*|workforce|fuerza trabajo|main oeuvre",
    "work": "work|worker*|labour|labor|trabajo|trabajador*|trabajadora*|laboral*|travail|travailleu*",
    "equal_pay": "equal pay|equal remuneration|equal wage*|wage gap|pay gap|gender pay gap|igual remuneracion|igualdad salarial|igualdad remuneracion|brecha salarial|diferencia* salarial*|egalite salariale|egalite remuneration|ecart salarial|ecart* remuneration|salario igual|igual salario|same pay|equal value|igual valor|valeur egale",
    "wages": "wage*|salar*|remunera*|pay|paid|pagad*|remunere*|income*|ingreso*|revenu*",
    "unpaid": "unpaid|no remunerad*|non remunere*|gratuito|bajo remuneracion",
    "care": "care work|care responsibilities|care services|unpaid care|cuidado*|trabajo cuidado|sistema cuidados|soins non remuneres|responsabilites familiales|responsabilidades familiares|family responsibilities|shared responsibility|corresponsabilidad|responsabilidad compartida|partage responsabilites|reconcil* work family|conciliacion|conciliation vie",
    "childcare": "childcare|child care|guarderia*|centros cuidado infantil|centros primera infancia|creche*|garderie*|day care|daycare",
    "leave": "parental leave|paternity leave|maternity leave|licencia paternidad|licencia maternidad|licencia parental|licencias parentales|conge paternite|conge maternite|conge parental",
    "informal": "informal*|informel*|informelle*",
    "pensions": "pension*|jubilacion*|retirement|retraite*",
    "land": "land|lands|tierra|tierras|terre|terres|territor*",
    "environment": "environment*|medio ambiente|ambiental*|environnement*|climate|climat*|clima|climatico*",
    "business": "business*|empresa*|entreprise*|corporat*|private sector|sector privado|secteur prive",
    # Civil and political rights
    "political_participation": "political participation|public life|political life|participacion politica|vida publica|vida politica|participation politique|vie publique|vie politique|decision making|toma decisiones|prise decision*|decision making positions|cargos decision|puestos decision|postes decision|leadership|liderazgo|representation|representacion|representativ*",
    "quotas": "quota*|cuota*|cupo*|temporary special measures|medidas especiales caracter temporal|mesures temporaires speciales|affirmative action|accion afirmativa|action positive|discriminacion positiva",
    "elections": "elector*|election*|eleccion*|electoral*|candidat*|listas|lists|listes|parliament*|parlament*|legislatur*|legislativ*",
    "vote": "vote|votes|voting|voto|votar|sufragio|suffrage|droit vote|derecho voto|right vote",
    "abroad": "abroad|exterior|extranjero|etranger|overseas|living outside|residentes fuera|diaspora",
    "expression": "freedom expression|libertad expresion|liberte expression|freedom opinion|libertad opinion|liberte opinion|freedom press|libertad prensa|liberte presse|freedom information|acceso informacion|access information|acces information",
    "assembly": "peaceful assembly|freedom assembly|libertad reunion|reunion pacifica|liberte reunion|freedom association|libertad asociacion|liberte association|trade union*|sindica*|syndica*",
    "religion": "religio*|creencia*|croyance*|belief*|culto",
    "birth_registration": "birth registration|birth certificate*|register birth*|registration births|registro nacimiento*|inscripcion nacimiento*|registro civil|inscripcion registro|enregistrement naissance*|declaration naissance*|etat civil|acta nacimiento|acte naissance|identity document*|documento* identidad|document* identite|documentacion",
    "marriage": "marriage*|married|matrimonio*|casamiento*|mariage*|marital|conyugal|conjugal",
    "marriage_age": "marriage age|minimum age marriage|age marriage|edad minima matrimonio|edad matrimonio|edad minima contraer matrimonio|edad minima casarse|age minimum mariage|age mariage|age nubilite|child marriage|early marriage|forced marriage|matrimonio infantil|matrimonio precoz|matrimonio forzado|matrimonios precoces|mariage precoce|mariage enfants|mariage force|mariages precoces",
    "age18": "18|dieciocho|eighteen|dix huit",
    "minimum_age": "minimum age|edad minima|age minimum|age minimal",
    "nationality": "nationality|citizenship|nacionalidad|ciudadania|nationalite|citoyennete|stateless*|apatrid*",
    "counter_terrorism": "terroris*|antiterror*|counter terror*",
    "security_forces": "armed forces|military|militar*|militaire*|fuerzas armadas|forces armees|army|ejercito|armee",
    "internet": "internet|online|en linea|en ligne|digital|cyber*|ciber*",
    "rights_child": "rights child|derechos nino|derechos ninos|derechos infancia|droits enfant|droits enfants|best interests child|interes superior nino|interet superieur enfant",
    "beijing": "beijing|pekin|beijing declaration|plataforma accion beijing",
}


@lru_cache(maxsize=1)
def _compiled(stop: frozenset[str]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each concept's terms as one pattern over the folded text without its
    stop words (dropped from the terms as from the texts)."""
    out = []
    for concept, terms in TERMS.items():
        alternatives = []
        for term in terms.split("|"):
            words = [w for w in term.split() if w.endswith("*") or w not in stop]
            if not words:
                continue
            parts = [re.escape(w[:-1]) + r"\w*" if w.endswith("*") else re.escape(w) for w in words]
            alternatives.append(r"(?:\s\w+){0,2}\s".join(parts))
        if alternatives:
            out.append((concept, re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")))
    return tuple(out)


def concepts(content_text: str, stop: frozenset[str]) -> list[str]:
    """The concepts a text names, by their ids, in TERMS order (each once).
    ``content_text`` is the suggester's folded text without its stop words
    (``link_similarity.content``); ``stop`` its stop words."""
    return [concept for concept, pattern in _compiled(stop) if pattern.search(content_text)]
